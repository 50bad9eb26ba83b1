"""An engine test for every option the programs rely on (components/base.py ``lifecycle_options``, and the
``--target`` list a release passes), on the real engine and the fake provider plugins.

A release's ``--target`` list alone keeps frozen resources out of it, so a release cannot tell whether the frozen
children's own options work. These tests run the management program the way a release runs it (the management
identity's environment, the deployment's workspace and state) but untargeted, which no release does
(``PulumiEngine.execute`` stops before the engine when a release has no target), so that only the options stand
between the engine and the frozen resources. Each test then runs the same step with the option switched off on the
children (``child_options``) and shows the engine doing what the option prevents: without the option the test fails.

One setup per cloud (AWS and GCP: what the options do does not differ by cloud; on GCP, as on Azure, setup-owned
grants also depend on a live resource) is shared by this module's tests, which run in the order written:
the last one removes resources from the stack."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from alien_pulumi.automation.pulumi_engine import PulumiEngine, environment
from alien_pulumi.automation.run import RunKind, RunStatus
from alien_pulumi.automation.workspace import open_stack, pulumi_command
from alien_pulumi.components import base
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.fleet.service import run_input
from alien_pulumi.model.loader import load_stack
from alien_pulumi.synth.synth import synth
from tests.engine.fake_provider import FakeCloud
from tests.engine.fixtures import engine, management
from tests.engine.flows import SMALL, changed, registered, setup, stack_state, vendor_side
from tests.engine.test_lifecycle import component_urns, descendants

CLOUDS = ["aws", "gcp"]
WRITES = {"Create", "Update", "Delete"}
DRIFTED = "changed-in-console"


@dataclass
class Deployment:
    cloud: str
    fake: FakeCloud
    state: Path

    def untargeted(self, stack: Path, release: str, **options: Any) -> auto.UpResult:
        """`pulumi up` of the management program of ``stack`` with no --target, as the management identity."""
        run = run_input(load_stack(stack), Registry(self.state).get_deployment("acme"), RunKind.RELEASE, release,
                        self.state)
        with tempfile.TemporaryDirectory(prefix="alien-run-") as scratch, vendor_side(), \
                environment(PulumiEngine().run_environment(run, Path(scratch))):
            return open_stack(run, {}, pulumi_command()).up(color="never", **options)

    def targets(self, stack: Path = SMALL) -> list[str]:
        """What synth says a release of ``stack`` targets, with the deployment's own context."""
        return synth(load_stack(stack), Registry(self.state).get_deployment("acme").context).targets

    def frozen(self) -> set[str]:
        """Every custom resource of the stack's state that no release targets: frozen data and setup-owned."""
        targets = set(self.targets())
        return {r["urn"] for r in stack_state(self.state)["resources"] if r.get("custom")
                and not r["type"].startswith("pulumi:providers:") and r["urn"] not in targets}

    def in_cloud(self) -> set[str]:
        """What the fake cloud holds and manages (not what a provider kept when asked to delete it)."""
        return {r["urn"] for r in self.fake.resources() if not r.get("retained")}


@pytest.fixture(scope="module", params=CLOUDS)
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The admin's setup of tests/engine/stacks/small.py, registered with the vendor: the ``engine`` and
    ``management`` fixtures of tests/engine/fixtures.py (their own code) for this module's tests of one cloud."""
    cloud, tmp = request.param, tmp_path_factory.mktemp(f"options-{request.param}")
    # The fixtures' own generator functions (pytest keeps them as __wrapped__), entered once for the module.
    with pytest.MonkeyPatch.context() as patch, contextlib.ExitStack() as fixtures:
        on = fixtures.enter_context(contextlib.contextmanager(engine.__wrapped__)(tmp, patch))
        fixtures.enter_context(contextlib.contextmanager(management.__wrapped__)(on, tmp, patch))
        state = tmp / "state"
        up = setup(SMALL, cloud, state)
        assert up.exit_code == 0, up.output
        registered(state)
        yield Deployment(cloud, on.clouds[cloud], state)


def child_options(monkeypatch: pytest.MonkeyPatch, only: tuple[str, ...] = (), **options: Any) -> None:
    """Build the programs with ``options`` instead of what ``lifecycle_options`` sets on every child (of the
    components named ``only``, else of all): the programs as they would be without an option."""
    original = base.AlienComponent.child_opts

    def child_opts(self: base.AlienComponent, **extra: Any) -> Any:
        opts = original(self, **extra)
        if not only or self.logical_name in only:
            for key, value in options.items():
                setattr(opts, key, value)
        return opts

    monkeypatch.setattr(base.AlienComponent, "child_opts", child_opts)


def written(calls: list[dict[str, Any]], methods: set[str] = WRITES) -> set[str]:
    return {c["urn"] for c in calls if c["method"] in methods and not c.get("preview")}


def inputs(state: Path, urns: set[str]) -> dict[str, Any]:
    return {r["urn"]: r["inputs"] for r in stack_state(state)["resources"] if r["urn"] in urns}


def test_ignore_changes_keeps_an_untargeted_management_run_off_frozen_resources(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    d = deployment
    frozen = d.frozen()
    assert any("::jobs-" in u for u in frozen) and any("::cache-" in u for u in frozen)
    slower = changed(tmp_path, "visibility_timeout_s=30", "visibility_timeout_s=90")
    queue = {u for u in frozen if "::jobs-" in u}
    queue_inputs = {r["urn"]: r["inputs"] for r in d.fake.resources() if r["urn"] in queue}
    assert 90 not in [v for i in queue_inputs.values() for v in i.values()]

    # A frozen input changed in the spec handed to the management program: the engine diffs, writes nothing, and
    # the state keeps the frozen inputs setup wrote.
    before = inputs(d.state, frozen)
    d.fake.clear_calls()
    d.untargeted(slower, "options-ignore")
    calls = d.fake.calls()
    assert written(calls, {"Diff"}) & queue, "the engine saw the frozen queue in the program"
    assert not written(calls) & frozen, [c for c in calls if c["method"] in WRITES]
    assert inputs(d.state, frozen) == before, "the state's frozen inputs are setup's"

    # A frozen resource drifted in the cloud, read by a refresh: nothing repairs it, nothing applies the spec.
    table = next(u for u in sorted(frozen) if "::cache-" in u)
    suffix = "::" + table.rsplit("::", 1)[-1]
    field = next(k for k, v in sorted(d.fake.find(suffix)["inputs"].items())
                 if isinstance(v, str) and k not in ("name", "project", "location", "region", "resourceGroupName"))
    d.fake.drift(suffix, **{field: DRIFTED})
    d.fake.clear_calls()
    d.untargeted(slower, "options-ignore-drift", refresh=True)
    calls = d.fake.calls()
    assert any(c["method"] == "Read" and c["urn"] == table and c["found"] for c in calls), "the refresh read the drift"
    assert not written(calls) & frozen, [c for c in calls if c["method"] in WRITES]
    assert d.fake.find(suffix)["inputs"][field] == DRIFTED
    assert {r["urn"]: r["inputs"] for r in d.fake.resources() if r["urn"] in queue} == queue_inputs

    # The same run with the management program built without ignore_changes updates both frozen resources.
    with monkeypatch.context() as patch:
        child_options(patch, ignore_changes=None)
        d.fake.clear_calls()
        d.untargeted(slower, "options-ignore-off", refresh=True)
    updated = written(d.fake.calls())
    assert table in updated and updated & queue, updated
    assert d.fake.find(suffix)["inputs"][field] != DRIFTED
    assert 90 in [v for r in d.fake.resources() if r["urn"] in queue for v in r["inputs"].values()]


def test_a_release_targets_what_synth_says_and_never_a_dependent(deployment: Deployment,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """A release passes synth's targets (every live component and all its descendants) and target_dependents off:
    a resource outside them that depends on a live one (the Grants component; on GCP its IAM bindings on the live
    service, setup-owned) is never touched, not even diffed. With target_dependents on the engine would."""
    d = deployment
    engine_state = stack_state(d.state)
    live = component_urns(engine_state, ("api",)) | descendants(engine_state, ("api",))
    bigger = changed(tmp_path, "memory_mb=512", "memory_mb=1024")
    expected = d.targets(bigger)
    assert sorted(expected) == sorted(live), "synth's targets are the engine's live component and all below it"
    dependents = {r["urn"] for r in engine_state["resources"] if r["urn"] not in live
                  and live & {*r.get("dependencies", []), *(u for us in r.get("propertyDependencies", {}).values()
                                                           for u in us)}}
    custom = dependents & d.frozen()
    assert dependents and (custom or d.cloud == "aws"), "on GCP setup-owned bindings depend on the live service"

    seen: list[dict[str, Any]] = []
    up, force = auto.Stack.up, {}

    def spy(self: auto.Stack, *args: Any, **kwargs: Any) -> auto.UpResult:
        seen.append({key: kwargs.get(key) for key in ("target", "target_dependents")})
        return up(self, *args, **{**kwargs, **force})

    monkeypatch.setattr(auto.Stack, "up", spy)
    registry = Registry(d.state)
    d.fake.clear_calls()
    with vendor_side():
        result = PulumiEngine().execute(run_input(load_stack(bigger), registry.get_deployment("acme"),
                                                  RunKind.RELEASE, "options-targets", d.state))
    assert result.status is RunStatus.SUCCEEDED, result.error
    assert seen == [{"target": expected, "target_dependents": False}]
    calls = d.fake.calls()
    assert written(calls) and written(calls) <= live
    assert not {c.get("urn") for c in calls} & dependents, "no provider call about a dependent outside the targets"
    assert {result.operations[u] for u in dependents} == {"same"}

    # The same release with target_dependents on: the engine checks and diffs the dependents.
    force["target_dependents"] = True
    d.fake.clear_calls()
    with vendor_side():
        result = PulumiEngine().execute(run_input(load_stack(changed(tmp_path, "memory_mb=512", "memory_mb=2048")),
                                                  registry.get_deployment("acme"), RunKind.RELEASE,
                                                  "options-dependents", d.state))
    assert result.status is RunStatus.SUCCEEDED, result.error
    assert custom <= written(d.fake.calls(), {"Check", "Diff"}), "on AWS the only dependent is a component"


def test_protect_refuses_a_frozen_resource_left_out_and_retain_on_delete_keeps_it(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both programs set protect and retain_on_delete on every frozen child of the stack's resources (setup-owned
    permissions neither: setup must be able to revoke them). The engine enforces the flags the state holds, which the
    last run declaring the resource wrote: here an untargeted management run of the whole program."""
    d = deployment
    d.untargeted(SMALL, "options-protect")
    engine_state = stack_state(d.state)
    cache, jobs = descendants(engine_state, ("cache",)), descendants(engine_state, ("jobs",))
    flags = {r["urn"]: (r.get("protect"), r.get("retainOnDelete")) for r in engine_state["resources"]}
    assert cache and jobs and {flags[u] for u in cache | jobs} == {(True, True)}, flags
    protected = {u for u, (protect, _) in flags.items() if protect}
    without = changed(tmp_path, '.add(jobs, "frozen").add(cache, "frozen")', "",
                      changed(tmp_path, "links=[jobs, cache]", "links=[]"))

    # protect: the management program without the queue and the table is refused; the cloud keeps both.
    d.fake.clear_calls()
    with pytest.raises(auto.errors.CommandError, match="it is protected"):
        d.untargeted(without, "options-protect-removed")
    assert not written(d.fake.calls(), {"Delete"}) & protected
    assert protected <= d.in_cloud()

    # Without protect (the program run once with it off, which writes it into the state) the same run goes through.
    # retain_on_delete: the table, still retained, is dropped from the state and kept in the cloud; the queue, run
    # with retain_on_delete off too, is deleted.
    with monkeypatch.context() as patch:
        child_options(patch, protect=False)
        child_options(patch, only=("jobs",), retain_on_delete=False)
        d.untargeted(SMALL, "options-unprotect")
    flags = {r["urn"]: (r.get("protect"), r.get("retainOnDelete")) for r in stack_state(d.state)["resources"]}
    assert not any(protect for protect, _ in flags.values())
    assert {flags[u][1] for u in cache} == {True} and not any(flags[u][1] for u in jobs)
    d.fake.clear_calls()
    d.untargeted(without, "options-removed")
    deleted = written(d.fake.calls(), {"Delete"})
    remaining = {r["urn"] for r in stack_state(d.state)["resources"]}
    assert not (cache | jobs) & remaining, "both left the stack"
    assert not deleted & cache and cache <= d.in_cloud(), "retain_on_delete kept the table in the cloud"
    assert jobs <= deleted and not jobs & d.in_cloud(), "without retain_on_delete the engine deletes the queue"
