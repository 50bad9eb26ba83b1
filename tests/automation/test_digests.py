"""Tags resolved to digests against a real registry on loopback (DESIGN.md §4b): anonymous and with the vendor's
credentials, a missing tag and an unreachable registry as clear errors, every compute image pinned in the spec
(frozen ones too: a moved tag under frozen compute is a frozen change, DESIGN.md §1a)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import alien_pulumi as alien
from alien_pulumi.automation.digests import DigestError, Resolver, docker_credentials, pin_images
from alien_pulumi.model.images import parse_image, unpinned_images
from alien_pulumi.model.types import Platform
from alien_pulumi.preflight import preflight
from alien_pulumi.preflight.deployed import from_spec
from alien_pulumi.preflight.findings import Code
from tests.automation.registry_server import LocalRegistry, docker_config, free_port, local_registry


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with local_registry(tmp_path_factory.mktemp("registry")) as registry:
        yield registry


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with local_registry(tmp_path_factory.mktemp("private"), auth=("vendor-ci", "s3cret-token")) as registry:
        yield registry


def stack(host: str, *, frozen_worker: bool = False, worker: str = "1") -> alien.StackSpec:
    return (alien.Stack("app", images=alien.Registry(f"{host}/acme")).platforms("azure", "gcp")
            .add(alien.Container("web", image="web:1.4.2"), "live")
            .add(alien.Container("worker", image=f"worker:{worker}"), "frozen" if frozen_worker else "live").build())


def test_resolves_the_pushed_manifest(anonymous: LocalRegistry) -> None:
    digest = anonymous.push("acme/web", "1.4.2", b"web-one")
    assert Resolver(credentials={}).digest(parse_image(f"{anonymous.host}/acme/web:1.4.2")) == digest


def test_pins_live_and_frozen_images(anonymous: LocalRegistry) -> None:
    web = anonymous.push("acme/web", "1.4.2", b"web-one")
    worker = anonymous.push("acme/worker", "1", b"worker-one")
    targets = [(Platform.AZURE, "eastus"), (Platform.GCP, "us-central1")]
    pinned, changes = pin_images(stack(anonymous.host, frozen_worker=True), targets, Resolver(credentials={}))
    assert pinned.resource("web").image == f"web:1.4.2@{web}"  # type: ignore[attr-defined]
    assert pinned.resource("worker").image == f"worker:1@{worker}"  # type: ignore[attr-defined]
    assert [str(c) for c in changes] == [f"web.image: web:1.4.2 -> {web}",
                                         f"worker.image (frozen): worker:1 -> {worker}"]
    assert [c.to_json()["lifecycle"] for c in changes] == ["live", "frozen"]
    again, none = pin_images(pinned, [(Platform.AZURE, "eastus")], Resolver(credentials={}))
    assert again == pinned and none == []  # an image pinned already is kept as written
    assert unpinned_images(pinned) == []


def test_a_frozen_image_resolved_to_the_deployed_digest_is_no_change(anonymous: LocalRegistry) -> None:
    anonymous.push("acme/web", "1.4.2", b"web-one")
    anonymous.push("acme/worker", "1", b"worker-stable")
    targets = [(Platform.AZURE, "eastus")]
    setup, _ = pin_images(stack(anonymous.host, frozen_worker=True), targets, Resolver(credentials={}))
    release, _ = pin_images(stack(anonymous.host, frozen_worker=True), targets, Resolver(credentials={}))
    report = preflight(release, from_spec(setup), Platform.AZURE)
    assert not report.blocked and [f for f in report.findings if f.resource == "worker"] == []


def test_a_moved_tag_under_frozen_compute_is_a_frozen_change(anonymous: LocalRegistry) -> None:
    anonymous.push("acme/web", "1.4.2", b"web-one")
    before = anonymous.push("acme/worker", "2", b"worker-two")
    targets = [(Platform.AZURE, "eastus")]
    setup, _ = pin_images(stack(anonymous.host, frozen_worker=True, worker="2"), targets, Resolver(credentials={}))
    after = anonymous.push("acme/worker", "2", b"worker-two-rebuilt")  # the vendor re-pushes the tag
    release, _ = pin_images(stack(anonymous.host, frozen_worker=True, worker="2"), targets, Resolver(credentials={}))
    report = preflight(release, from_spec(setup), Platform.AZURE)
    [change] = [f for f in report.findings if f.resource == "worker"]
    assert (change.code, change.field, change.old, change.new) == (
        Code.FROZEN_CHANGED, "image", f"worker:2@{before}", f"worker:2@{after}")
    assert change.blocks and change.needs_setup and report.blocked
    assert change.message == (f"worker.image: 'worker:2@{before}' -> 'worker:2@{after}': frozen resource changed "
                               "(allow with --allow-frozen-changes; the admin's next setup applies it)")
    allowed = preflight(release, from_spec(setup), Platform.AZURE, allow_frozen_changes=True)
    assert not allowed.blocked and [f.field for f in allowed.pending_setup] == ["image"]


def test_a_moved_tag_resolves_to_the_new_manifest(anonymous: LocalRegistry) -> None:
    first = anonymous.push("acme/moving", "stable", b"one")
    second = anonymous.push("acme/moving", "stable", b"two")
    assert first != second
    assert Resolver(credentials={}).digest(parse_image(f"{anonymous.host}/acme/moving:stable")) == second


def test_missing_tag_is_a_clear_error(anonymous: LocalRegistry) -> None:
    spec = (alien.Stack("app").platforms("azure")
            .add(alien.Container("web", image=f"{anonymous.host}/acme/web:9.9.9"), "live").build())
    with pytest.raises(DigestError, match=r"web\.image \(azure\): .*acme/web:9\.9\.9: no such tag"):
        pin_images(spec, [(Platform.AZURE, "eastus")], Resolver(credentials={}))


def test_unreachable_registry_is_a_clear_error() -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    spec = (alien.Stack("app").platforms("azure").add(alien.Container("web", image=f"{host}/acme/web:1"), "live")
            .build())
    with pytest.raises(DigestError, match=rf"registry {host} is unreachable"):
        pin_images(spec, [(Platform.AZURE, "eastus")], Resolver(credentials={}))


def test_private_registry_with_the_vendors_docker_login(private: LocalRegistry, tmp_path: Path) -> None:
    digest = private.push("acme/api", "2.0.0", b"api")
    ref = parse_image(f"{private.host}/acme/api:2.0.0")
    with pytest.raises(DigestError, match="needs credentials; log in with docker login"):
        Resolver(credentials={}).digest(ref)
    wrong = {private.host: ("vendor-ci", "wrong")}
    with pytest.raises(DigestError, match="refused the vendor's credentials"):
        Resolver(credentials=wrong).digest(ref)
    config = docker_config(tmp_path / "docker", private.host, "vendor-ci", "s3cret-token")
    assert Resolver(credentials=docker_credentials(config)).digest(ref) == digest


STACK = '''import alien_pulumi as alien

stack = (alien.Stack("pinned", images=alien.Registry("{host}/acme")).platforms("azure")
         .add(alien.Container("web", image="web:{tag}"), "live").build())
'''


def released(tmp_path: Path, host: str, tag: str) -> tuple[int, str, str]:
    """Set up an Azure deployment (simulated engine), register it and release the stack with ``tag``."""
    from tests.cli.helpers import run
    from tests.deploy.lifecycle import deployed

    setup = tmp_path / "setup.py"
    setup.write_text(STACK.format(host=host, tag="1.0.0"))
    if not (tmp_path / "records" / "cust.json").exists():
        deployed(tmp_path, "cust", "azure", stack=setup)
    release = tmp_path / f"release-{tag}.py"
    release.write_text(STACK.format(host=host, tag=tag))
    result = run("release", str(release), "-d", "cust", "--release-id", f"r-{tag}", "--engine", "simulated:1",
                 "--state-dir", str(tmp_path))
    return result.exit_code, result.stdout, result.stderr


def test_release_deploys_and_records_the_digest(anonymous: LocalRegistry, tmp_path: Path) -> None:
    from alien_pulumi.fleet.registry import Registry

    digest = anonymous.push("acme/web", "2.0.0", b"web-two")
    code, _, stderr = released(tmp_path, anonymous.host, "2.0.0")
    assert code == 0, stderr
    assert f"web.image: web:2.0.0 -> {digest}" in stderr
    record = Registry(tmp_path).get_deployment("cust").record
    assert record is not None and record.release == "r-2.0.0"
    assert record.spec.resource("web").image == f"web:2.0.0@{digest}"  # type: ignore[attr-defined]


def test_release_of_a_missing_tag_deploys_nothing(anonymous: LocalRegistry, tmp_path: Path) -> None:
    from alien_pulumi.fleet.registry import Registry

    anonymous.push("acme/web", "1.0.0", b"web-one")
    code, _, stderr = released(tmp_path, anonymous.host, "7.7.7")
    assert code == 2 and "acme/web:7.7.7: no such tag" in stderr
    registry = Registry(tmp_path)
    assert not registry.has_release("r-7.7.7") and registry.runs(deployment="cust") == []
    assert registry.get_deployment("cust").record.release != "r-7.7.7"  # type: ignore[union-attr]


def test_release_against_an_unreachable_registry_does_not_start(anonymous: LocalRegistry, tmp_path: Path) -> None:
    from alien_pulumi.fleet.registry import Registry

    anonymous.push("acme/web", "1.0.0", b"web-one")
    released(tmp_path, anonymous.host, "1.0.0")  # the deployment exists, set up from the reachable registry
    gone = f"127.0.0.1:{free_port()}"
    (tmp_path / "records").mkdir(exist_ok=True)
    code, _, stderr = released(tmp_path, gone, "1.0.1")
    assert code == 2 and f"registry {gone} is unreachable" in stderr
    assert not Registry(tmp_path).has_release("r-1.0.1")


def test_bearer_token_flow(tmp_path: Path) -> None:
    """The registry answers 401 with a Bearer challenge; the resolver fetches a pull token from the realm with
    the vendor's credentials and retries (how ghcr.io, Docker Hub and Artifact Registry authenticate)."""
    creds = ("vendor-ci", "t0ken-pass")
    with local_registry(tmp_path, auth=creds, token=True) as registry:
        digest = registry.push("acme/api", "3.1.0", b"api-three")
        ref = parse_image(f"{registry.host}/acme/api:3.1.0")
        assert Resolver(credentials={registry.host: creds}).digest(ref) == digest
        with pytest.raises(DigestError, match=r"token service .* answered HTTP 401"):
            Resolver(credentials={registry.host: ("vendor-ci", "wrong")}).digest(ref)
