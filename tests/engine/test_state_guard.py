"""The admin's setup never trusts the state the management identity can write (DESIGN.md §1a), on the real engine.

Each test is an attack a vendor (or whoever holds its release service) can make by writing the stack's state, and
checks that the admin's next `alien-deploy up` refuses it, names the URN and field, and runs nothing: the fake cloud
keeps every resource and no plugin is started or fetched."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.fixtures import Engine
from tests.engine.flows import SMALL, changed, registered, setup, vendor
from tests.gcp_token_server import TokenServer

CLOUD = "gcp"  # its state is a local file the test can write, as the management identity writes the bucket


def tamper(state: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    """Change the stack's resources in its state, as a write with the management identity's state access would."""
    file = state / "backend" / ".pulumi" / "stacks" / "alien" / "acme.json"
    data = json.loads(file.read_text())
    change(data["checkpoint"]["latest"]["resources"])
    file.write_text(json.dumps(data))


def entry(resources: list[dict[str, Any]], suffix: str) -> dict[str, Any]:
    return next(r for r in resources if r["urn"].endswith(suffix) and r.get("custom"))


def frozen_queue(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in resources if r.get("custom") and "::jobs-" in r["urn"] and r.get("id"))


def nothing_written(calls: list[dict[str, Any]]) -> bool:
    return not [c for c in calls if c["method"] in ("Create", "Update", "Delete")]


def test_an_injected_resource_is_refused_and_the_customers_resource_kept(engine: Engine, tmp_path: Path) -> None:
    fake, state = engine.clouds[CLOUD], tmp_path / "state"
    assert setup(SMALL, CLOUD, state).exit_code == 0
    # An unrelated customer resource, by its real id, written into the stack's state under a made-up URN.
    queue = frozen_queue(json.loads((state / "backend" / ".pulumi" / "stacks" / "alien" / "acme.json")
                                    .read_text())["checkpoint"]["latest"]["resources"])
    urn = queue["urn"].rsplit("::", 1)[0] + "::payroll-events"
    fake.put({"id": "payroll-events", "type": queue["type"], "urn": "customer", "inputs": {}, "outputs": {}})
    tamper(state, lambda rs: rs.append({**queue, "urn": urn, "id": "payroll-events", "protect": False}))
    fake.clear_calls()
    again = setup(SMALL, CLOUD, state)
    assert again.exit_code == 3, again.output
    assert f"{urn}: not in your last setup record and not declared live by the spec" in again.output
    assert fake.get(queue["type"], "payroll-events") is not None, "the customer's resource is kept"
    assert fake.calls() == [], "no plugin was started"


@pytest.fixture
def plugin_server() -> Iterator[list[str]]:
    """A loopback HTTP server standing in for the attacker's plugin host: it records every request."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen.append(f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield seen
    finally:
        server.shutdown()


def test_a_provider_with_a_download_url_is_refused_before_any_plugin(engine: Engine, tmp_path: Path,
                                                                      plugin_server: list[str]) -> None:
    fake, state = engine.clouds[CLOUD], tmp_path / "state"
    assert setup(SMALL, CLOUD, state).exit_code == 0
    url = plugin_server.pop()

    def add_provider(resources: list[dict[str, Any]]) -> None:
        ours = next(r for r in resources if r["type"] == "pulumi:providers:gcp")
        urn = ours["urn"].rsplit("::", 1)[0] + "::evil"
        resources.append({**ours, "urn": urn, "id": "evil-id",
                          "inputs": {**ours["inputs"], "version": "99.0.0", "pluginDownloadURL": url}})
        queue = frozen_queue(resources)
        queue["provider"] = f"{urn}::evil-id"

    tamper(state, add_provider)
    fake.clear_calls()
    again = setup(SMALL, CLOUD, state)
    assert again.exit_code == 3, again.output
    assert f"names a plugin download URL ({url})" in again.output
    assert plugin_server == [], "the engine fetched nothing"
    assert fake.calls() == [], "no plugin was started"


def test_a_frozen_id_swapped_in_the_state_is_refused_naming_the_urn(engine: Engine, tmp_path: Path) -> None:
    fake, state = engine.clouds[CLOUD], tmp_path / "state"
    assert setup(SMALL, CLOUD, state).exit_code == 0
    swapped: list[str] = []

    def swap(resources: list[dict[str, Any]]) -> None:
        queue = frozen_queue(resources)
        swapped.append(queue["urn"])
        queue["id"] = "payroll-events"

    tamper(state, swap)
    fake.clear_calls()
    again = setup(changed(tmp_path, "visibility_timeout_s=30", "visibility_timeout_s=90"), CLOUD, state,
                  "--allow-frozen-changes")
    assert again.exit_code == 3, again.output
    assert f"{swapped[0]}: field id: 'payroll-events'" in again.output
    assert nothing_written(fake.calls())


def test_a_release_between_the_preview_and_the_confirmation_stops_setup(engine: Engine, management: TokenServer,
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake, state = engine.clouds[CLOUD], tmp_path / "state"
    assert setup(SMALL, CLOUD, state).exit_code == 0
    registered(state)

    def release_then_confirm(*_args: Any, **_kwargs: Any) -> bool:
        released = vendor("release", changed(tmp_path, "memory_mb=512", "memory_mb=1024"), "-d", "acme",
                          "--state-dir", state, "--release-id", "r-between")
        assert released.exit_code == 0, released.output
        fake.clear_calls()
        return True

    monkeypatch.setattr("alien_pulumi.cli.deploy.typer.confirm", release_then_confirm)
    from alien_pulumi.cli.deploy import app as deploy_app
    from tests.artifacts import artifact
    from tests.engine.flows import invoke, register

    bigger = artifact(changed(tmp_path, "visibility_timeout_s=30", "visibility_timeout_s=60"))
    confirmed = invoke(deploy_app, "up", bigger, "--bundle", register(CLOUD, state), "--secrets-provider",
                       "passphrase", "--state-dir", state, "--allow-frozen-changes")
    assert confirmed.exit_code == 3, confirmed.output
    assert "changed since the preview you confirmed" in confirmed.output
    assert nothing_written(fake.calls()), "nothing applied"
