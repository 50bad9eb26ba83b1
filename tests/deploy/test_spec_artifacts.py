"""Specs, not programs, cross the boundary (DESIGN.md §1a): the vendor builds an artifact with every image pinned;
every alien-deploy command takes the artifact, and none of them runs a Python stack file, even one handed to it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.artifacts import artifact
from tests.automation.registry_server import LocalRegistry, local_registry
from tests.deploy.lifecycle import QUICKSTART, SHARED_STATE, admin, register, set_up, vendor


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with local_registry(tmp_path_factory.mktemp("registry")) as found:
        yield found


def vendor_stack(tmp_path: Path, host: str) -> Path:
    """The quick-start stack on Azure (Container Apps pulls any registry), from the loopback registry."""
    stack = tmp_path / "app.py"
    stack.write_text(QUICKSTART.read_text().replace("ghcr.io/acme", f"{host}/acme")
                     .replace('.platforms("aws", "gcp", "azure")', '.platforms("azure")'))
    return stack


def test_build_pins_every_image_and_setup_deploys_the_artifact(registry: LocalRegistry, tmp_path: Path) -> None:
    api = registry.push("acme/api", "1.4.2", b"api")
    web = registry.push("acme/web", "2.0.0", b"web")
    out = tmp_path / "app.spec.json"
    built = vendor("build", str(vendor_stack(tmp_path, registry.host)), "--out", str(out), "--json")
    assert built.exit_code == 0, built.output
    report = json.loads(built.stdout)
    assert {p["resource"]: p["digest"] for p in report["pinned"]} == {"api": api, "web": web}
    assert report["unpinned"] == []
    document = json.loads(out.read_text())
    images = {r["id"]: r["image"] for r in document["spec"]["resources"] if "image" in r}
    assert images == {"api": f"api:1.4.2@{api}", "web": f"web:2.0.0@{web}"}
    assert document["digest"] == report["digest"]

    result = set_up(tmp_path, register(tmp_path, "acme", "azure"), stack=out)
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "records" / "acme.json").read_text())
    assert record["digest"] == document["digest"], "the record names the artifact the admin set up"


def test_build_of_a_tag_the_registry_lacks_writes_nothing(registry: LocalRegistry, tmp_path: Path) -> None:
    out = tmp_path / "app.spec.json"
    stack = vendor_stack(tmp_path, registry.host)
    stack.write_text(stack.read_text().replace("api:1.4.2", "api:9.9.9"))
    built = vendor("build", str(stack), "--out", str(out))
    assert built.exit_code == 2 and "api.image" in built.output and "no such tag" in built.output, built.output
    assert not out.exists()


def test_a_region_named_by_the_registry_must_be_given(tmp_path: Path) -> None:
    built = vendor("build", str(QUICKSTART), "--out", str(tmp_path / "x.spec.json"))
    assert built.exit_code == 2 and "--region" in built.output and "{region}" in built.output, built.output


MARKER_STACK = """import os, pathlib
pathlib.Path({marker!r}).write_text(os.environ.get("AWS_SECRET_ACCESS_KEY", "ran"))
import alien_pulumi as alien
stack = alien.Stack("app").platforms("aws").add(alien.Storage("data"), "frozen").build()
"""


@pytest.mark.parametrize("command", ["up", "preview", "record", "permissions", "bootstrap"])
def test_no_command_runs_a_python_stack_file(command: str, tmp_path: Path) -> None:
    marker = tmp_path / "stolen"
    stack = tmp_path / "stack.py"
    stack.write_text(MARKER_STACK.format(marker=str(marker)))
    bundle = register(tmp_path, "acme")
    args = {"bootstrap": ["--bundle", str(bundle), "--spec", str(stack)],
            "permissions": [str(stack), "--bundle", str(bundle)],
            "record": [str(stack), "--bundle", str(bundle), "--state-dir", str(tmp_path)]}.get(
        command, [str(stack), "--bundle", str(bundle), "--state-dir", str(tmp_path), *SHARED_STATE])
    result = admin(command, *args, *(["--yes"] if command == "up" else []))
    assert result.exit_code == 1, result.output
    assert "never runs the vendor's code" in result.output and "alien-pulumi build stack.py" in result.output
    assert not marker.exists(), "the vendor's Python ran on the admin's machine"
    assert not (tmp_path / "records").exists() and not (tmp_path / "workspaces").exists()


def test_setup_refuses_an_artifact_built_with_no_resolve(tmp_path: Path) -> None:
    unpinned = artifact(QUICKSTART, pin=False)
    bundle = register(tmp_path, "acme")
    review = admin("permissions", str(unpinned), "--bundle", str(bundle))
    assert review.exit_code == 0, review.output  # reviewing it is fine
    result = set_up(tmp_path, bundle, stack=unpinned)
    assert result.exit_code == 1 and "not pinned by digest" in result.output and "api.image" in result.output
    assert not (tmp_path / "records").exists() and not (tmp_path / "workspaces").exists()


def test_an_artifact_changed_after_it_was_built_is_refused_before_anything(tmp_path: Path) -> None:
    changed = tmp_path / "changed.spec.json"
    data = json.loads(artifact(QUICKSTART).read_text())
    data["spec"]["resources"] = [r for r in data["spec"]["resources"] if r["id"] != "secrets"]
    changed.write_text(json.dumps(data))
    result = set_up(tmp_path, register(tmp_path, "acme"), stack=changed)
    assert result.exit_code == 1 and f"{changed}: field 'digest' does not match the spec" in result.output
    assert not (tmp_path / "records").exists() and not (tmp_path / "workspaces").exists()


def test_the_customer_side_never_imports_the_stack_loader() -> None:
    code = ("import sys, alien_pulumi.cli.deploy, alien_pulumi.programs.entry, alien_pulumi.deploy.setup; "
            "print(sorted(m for m in sys.modules if m in ('alien_pulumi.model.loader', 'runpy', "
            "'alien_pulumi.cli.stack_files')))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]", found.stdout


def test_a_backend_outside_the_customers_cloud_needs_the_admins_opt_in(tmp_path: Path) -> None:
    """The vendor's bundle names a backend of its own: setup refuses it unless the admin opts in, and the document
    the admin reviews says where the state goes and who can read it."""
    vendor_backend = "https://api.vendor-state.example"
    bundle = register(tmp_path, "acme", "aws", "--backend", vendor_backend)
    spec = artifact(QUICKSTART)
    refused = admin("up", str(spec), "--bundle", str(bundle), "--yes", "--engine", "simulated:1", "--state-dir",
                    str(tmp_path))
    assert refused.exit_code == 2, refused.output
    assert f"the vendor's bundle (backend) keeps the state at {vendor_backend}" in refused.output
    assert "--allow-external-backend" in refused.output
    assert not (tmp_path / "records").exists() and not (tmp_path / "workspaces").exists()

    document = admin("permissions", str(spec), "--bundle", str(bundle))
    assert document.exit_code == 0, document.output
    assert f"**The state is kept outside your cloud**, at `{vendor_backend}`" in document.stdout
    assert "it stays in your cloud" not in document.stdout
    own = admin("permissions", str(spec), "--bundle", str(register(tmp_path / "own", "acme")))
    assert "it stays in your cloud: the state bucket `acme-state-210987654321`" in own.stdout

    accepted = admin("up", str(spec), "--bundle", str(bundle), "--yes", "--engine", "simulated:1", "--state-dir",
                     str(tmp_path), "--allow-external-backend")
    assert accepted.exit_code == 0, accepted.output
    assert f"state outside your cloud: {vendor_backend}" in accepted.stdout
    assert json.loads((tmp_path / "records" / "acme.json").read_text())["backend"] == vendor_backend
