"""Both programs on every cloud: the lifecycle options table of DESIGN.md §4 on every child, the same
URNs and providers in both programs, the management targets, examples, and the config entry point."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from functools import cache

import pulumi
import pytest

import alien_pulumi as alien
from alien_pulumi.programs import PROJECT
from alien_pulumi.synth import SynthResult, run_program, synth
from alien_pulumi.synth.graph import Graph
from tests.artifacts import artifact, pinned
from tests.conftest import EXAMPLES, ROOT, quickstart

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)

PLATFORMS = ["aws", "gcp", "azure"]
LIFECYCLES = ["frozen", "live"]
ALL_TYPES = {"Storage", "Function", "Container", "Queue", "Kv", "Vault", "Network"}
# A vault is the name prefix the application stores its secrets under; a cloud may declare nothing for it.
MAY_BE_CHILDLESS = {"Vault"}
SETUP_OWNED_PERMISSIONS = {"Identities", "Grants"}


def every_type_stack(lifecycle: str) -> alien.StackSpec:
    """One resource of every type, all with one lifecycle, using every feature a component handles."""
    net = alien.Network("net", nat=True)
    data = alien.Storage("data", versioning=True, retention_days=30)
    jobs = alien.Queue("jobs")
    table = alien.Kv("table")
    vault = alien.Vault("vault")
    fn = alien.Function("fn", image=f"{ECR}/acme/fn:1.0", public=True, links=[data, table, vault],
                        triggers=[alien.on_queue(jobs), alien.on_schedule("*/10 * * * *")], permissions="app",
                        environment={"MODE": "test"})
    web = alien.Container("web", image=f"{ECR}/acme/web:1.0", public=True, port=8080, links=[data],
                          health_check_path="/healthz")
    stack = alien.Stack("every").platforms(*PLATFORMS)
    for res in (net, data, jobs, table, vault, fn, web):
        stack.add(res, lifecycle)
    return stack.permissions(profiles={"app": {"jobs": ["queue/data-read"]}}).build()


@cache
def synthesized(platform: str, lifecycle: str) -> SynthResult:
    spec = every_type_stack(lifecycle)
    return synth(spec, alien.DeploymentContext.example_context(platform, spec.name))


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_type_has_a_component(platform: str, lifecycle: str) -> None:
    result = synthesized(platform, lifecycle)
    types = {c.type.split(":")[-1] for c in result.provision.components()}
    assert ALL_TYPES <= types
    for component, _, children in result.component_rows():
        kind = component.type.split(":")[-1]
        if kind in ALL_TYPES - MAY_BE_CHILDLESS:
            assert children, f"{component.urn} has no children"
        for child in children:
            assert child.name.startswith(f"{component.name}-"), child.urn


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_lifecycle_options_on_every_child(platform: str, lifecycle: str) -> None:
    result = synthesized(platform, lifecycle)
    for component, comp_lifecycle, children in result.component_rows():
        frozen = comp_lifecycle is alien.Lifecycle.FROZEN
        # Setup-owned permissions are ignored by releases but not protected: setup must be able to revoke them.
        kept = frozen and component.type.split(":")[-1] not in SETUP_OWNED_PERMISSIONS
        for child in children:
            manage = result.manage.nodes[child.urn].options
            prov = child.options
            where = f"{child.urn} ({comp_lifecycle.value})"
            assert (prov.protect, prov.retain_on_delete, prov.ignore_changes) == (kept, kept, ()), where
            expected_ignore = ("*",) if frozen else ()
            assert (manage.protect, manage.retain_on_delete, manage.ignore_changes) == (kept, kept,
                                                                                          expected_ignore), where


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_same_urns_parents_and_providers_in_both_programs(platform: str, lifecycle: str) -> None:
    result = synthesized(platform, lifecycle)
    assert result.provision.urns() == result.manage.urns()
    for urn, node in result.provision.nodes.items():
        other = result.manage.nodes[urn]
        assert (node.parent, node.provider, node.type, node.name) == (other.parent, other.provider, other.type,
                                                                      other.name)
        assert node.inputs == other.inputs, f"{urn}: provider inputs differ between the programs"
    assert all("pulumi:pulumi:Stack" not in urn for urn in result.provision.urns())


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_targets_are_exactly_live_components_and_descendants(platform: str, lifecycle: str) -> None:
    result = synthesized(platform, lifecycle)
    expected = set()
    frozen = set()
    for component, comp_lifecycle, children in result.component_rows():
        urns = {component.urn} | {c.urn for c in children}
        (expected if comp_lifecycle is alien.Lifecycle.LIVE else frozen).update(urns)
    assert set(result.targets) == expected
    assert not set(result.targets) & frozen
    assert len(result.targets) == len(set(result.targets))
    if lifecycle == "frozen":
        assert result.targets == []
    else:
        assert result.targets


def test_engine_urns_follow_the_parent_type_chain() -> None:
    from alien_pulumi.synth.mocks import Registration

    def reg(urn: str, type_: str, name: str, parent: str) -> Registration:
        return Registration(urn, type_, name, False, parent, "", False, False, (), (), {})

    stack = "urn:pulumi:s::alien::pulumi:pulumi:Stack::alien-s"
    regs = [
        reg("m1", "alien:aws:Storage", "data", stack),
        reg("m2", "my:mod:Inner", "data-inner", "m1"),
        reg("m3", "aws:s3/bucket:Bucket", "data-inner-bucket", "m2"),
    ]
    graph = Graph(regs, PROJECT, "s")
    assert set(graph.urns()) == {
        "urn:pulumi:s::alien::alien:aws:Storage::data",
        "urn:pulumi:s::alien::alien:aws:Storage$my:mod:Inner::data-inner",
        "urn:pulumi:s::alien::alien:aws:Storage$my:mod:Inner$aws:s3/bucket:Bucket::data-inner-bucket",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_synthesizes_on_every_declared_platform(example: object) -> None:
    spec = alien.load_stack(example)  # type: ignore[arg-type]
    for platform in spec.platforms:
        result = synth(spec, alien.DeploymentContext.example_context(platform, spec.name))
        live = {r.id for r in spec.resources if r.lifecycle is alien.Lifecycle.LIVE}
        target_components = {u.rsplit("::", 1)[1] for u in result.targets if u.count("$") == 0}
        assert target_components == live


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_program_imports_only_its_cloud_sdk(platform: str) -> None:
    others = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure": "pulumi_azure_native"}
    code = (
        "import sys, alien_pulumi as alien\n"
        "from alien_pulumi.synth import synth\n"
        "spec = alien.load_stack(sys.argv[1])\n"
        f"synth(spec, alien.DeploymentContext.example_context('{platform}', spec.name))\n"
        "print([m for m in ('pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "examples" / "my_app.py")], capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == [others[platform]]


@pytest.mark.parametrize("kind", ["provision", "manage"])
def test_program_entry_points_read_pulumi_config(kind: str) -> None:
    config = {"alien:stack": str(artifact(ROOT / "examples" / "my_app.py")), "alien:platform": "gcp",
              "alien:prefix": "acme",
              "alien:project": "acme-prod-4711", "alien:region": "europe-west4",
              "alien:vendorPrincipal": "alien-release@vendor-release.iam.gserviceaccount.com"}

    def program() -> None:
        pulumi.runtime.set_all_config(config)
        runpy.run_path(str(ROOT / "programs" / kind / "__main__.py"))

    graph = Graph(run_program(program, PROJECT, "acme"), PROJECT, "acme")
    spec = pinned(alien.load_stack(ROOT / "examples" / "my_app.py"))
    expected = synth(spec, alien.DeploymentContext.create(
        "gcp", spec.name, prefix="acme", project="acme-prod-4711", region="europe-west4",
        vendor_principal="alien-release@vendor-release.iam.gserviceaccount.com"))
    assert graph.urns() == expected.provision.urns()
    nodes = expected.provision.nodes if kind == "provision" else expected.manage.nodes
    assert {u: n.options for u, n in graph.nodes.items()} == {u: n.options for u, n in nodes.items()}


def test_the_root_program_refuses_missing_context_naming_each_config_key() -> None:
    """Plain `pulumi up` of the root Pulumi.yaml: no example value ever fills a missing key."""
    config = {"alien:stack": str(artifact(ROOT / "examples" / "my_app.py")), "alien:platform": "aws",
              "alien:accountId": "12", "alien:vendorPrincipal": "*"}

    def program() -> None:
        pulumi.runtime.set_all_config(config)
        runpy.run_path(str(ROOT / "programs" / "provision" / "__main__.py"))

    with pytest.raises(pulumi.RunError) as info:
        run_program(program, PROJECT, "acme")
    message = str(info.value)
    for key in ("alien:region: missing", "alien:externalId: missing", "alien:accountId: '12' is not",
                "alien:vendorPrincipal: '*' is not an IAM role ARN"):
        assert key in message


def test_synth_runs_after_asyncio_run_cleared_the_threads_loop() -> None:
    """asyncio.run (the Temporal client uses it) leaves the thread with no event loop; synth must still run."""
    import asyncio

    async def nothing() -> None:
        return None

    asyncio.run(nothing())
    spec = quickstart()
    result = synth(spec, alien.DeploymentContext.example_context("aws", spec.name))
    assert result.targets, "the management program of the quick-start stack targets its live resources"
