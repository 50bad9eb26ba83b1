"""preflight and diff through the CLI: exit codes, pure JSON, the markdown report, release records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import alien_pulumi as alien
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.permissions import derive_plan, render_all
from tests.cli.helpers import run
from tests.conftest import ROOT

QUICKSTART_STR = str(ROOT / "examples" / "my_app.py")
QUICKSTART = ROOT / "examples" / "my_app.py"


@pytest.fixture
def changed(tmp_path: Path) -> Path:
    path = tmp_path / "stack.py"
    path.write_text(QUICKSTART.read_text().replace("versioning=True", "versioning=False")
                    .replace("memory_mb=512", "memory_mb=1024"))
    return path


def record_for(spec: alien.StackSpec, tmp_path: Path, platform: str = "aws", prefix: str = "acme") -> Path:
    ctx = alien.DeploymentContext.example_context(platform, spec.name, prefix=prefix)
    record = ReleaseRecord(release="r1", deployment="acme", program="provision", context=ctx, spec=spec,
                           digest=spec.digest(), frozen_digest=spec.frozen_digest(),
                           permissions=render_all(derive_plan(spec, ctx)))
    path = tmp_path / "release.json"
    path.write_text(record.model_dump_json(indent=2))
    return path


def test_preflight_identical_exits_0() -> None:
    result = run("preflight", str(QUICKSTART), "--against", str(QUICKSTART))
    assert result.exit_code == 0
    assert "may roll out" in result.stdout


def test_preflight_frozen_change_exits_3_and_allow_flag_passes(changed: Path) -> None:
    blocked = run("preflight", str(changed), "--against", str(QUICKSTART), "--json")
    assert blocked.exit_code == 3
    data = json.loads(blocked.stdout)
    assert data["may_roll_out"] is False
    assert [f["code"] for f in data["findings"]] == ["FROZEN_CHANGED", "LIVE_CHANGED"]
    allowed = run("preflight", str(changed), "--against", str(QUICKSTART), "--allow-frozen-changes", "--json")
    assert allowed.exit_code == 0
    out = json.loads(allowed.stdout)
    assert out["may_roll_out"] is True and len(out["pending_setup"]) == 1


def test_preflight_invalid_stack_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "platforms": ["aws"], "resources": [{"id": "A", "type": "kv",
                                                                                "lifecycle": "frozen"}]}))
    result = run("preflight", str(bad), "--against", str(QUICKSTART))
    assert result.exit_code == 1 and "A.id" in result.stderr


def test_preflight_usage_exits_2(tmp_path: Path) -> None:
    assert run("preflight", str(QUICKSTART)).exit_code == 2
    assert run("preflight", str(QUICKSTART), "--against", str(tmp_path / "missing.json")).exit_code == 2


def test_against_a_release_record_uses_its_context(tmp_path: Path, changed: Path) -> None:
    spec = alien.load_stack(QUICKSTART)
    record = record_for(spec, tmp_path, prefix="acme")
    same = run("preflight", str(QUICKSTART), "--against", str(record), "--json")
    assert same.exit_code == 0, same.stdout
    assert json.loads(same.stdout)["platforms"] == ["aws"]
    report = json.loads(run("diff", str(changed), "--against", str(record), "-p", "aws", "--format", "json").stdout)
    assert report["digests"]["deployed"] == spec.digest()
    assert report["summary"]["changed"] == {"frozen": 1, "live": 1}


def test_diff_markdown_report(changed: Path) -> None:
    result = run("diff", str(changed), "--against", str(QUICKSTART), "--platform", "aws")
    assert result.exit_code == 0
    text = result.stdout
    # deployed given as a stack file: its context is an example, and the report says so under the marker
    assert text.startswith("<!-- alien-pulumi diff -->\n> **example context:")
    assert "\n## alien-pulumi: `my-app` — ❌ blocked" in text
    assert "| changed | 1 | 1 |" in text
    assert "- `data.versioning`: `True` → `False`" in text
    assert "### Needs the customer's admin (setup)" in text


def test_diff_shows_permission_changes(tmp_path: Path) -> None:
    live_queue = tmp_path / "stack.py"
    live_queue.write_text(QUICKSTART.read_text().replace('.add(jobs, "frozen")', '.add(jobs, "live")'))
    data = json.loads(run("diff", str(live_queue), "--against", str(QUICKSTART), "-p", "gcp", "--json").stdout)
    management = data["permissions"]["gcp"]["management"]
    assert any("pubsub.topics.update" in line for line in management["added"])
    text = run("diff", str(live_queue), "--against", str(QUICKSTART), "-p", "gcp").stdout
    assert "<summary>gcp management: +" in text and "```diff" in text


def test_ci_workflow_runs_diff_and_preflight() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "alien-pulumi-pr.yml").read_text())
    steps = workflow["jobs"]["preflight"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "alien-pulumi diff" in runs and "alien-pulumi preflight" in runs
    comment = next(s for s in steps if s.get("uses", "").startswith("actions/github-script"))
    assert "updateComment" in comment["with"]["script"] and "createComment" in comment["with"]["script"]
    install = next(s["run"] for s in steps if "pip install" in s.get("run", ""))
    assert "git+https://github.com/${{ vars.ALIEN_PULUMI_REPO }}@${{ vars.ALIEN_PULUMI_REF }}" in install


def test_ci_workflow_commands_work_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every alien-pulumi line of the workflow, run in a vendor repository with a real setup record of an
    AWS deployment: the deployed cloud is checked, the others are reported as not deployed."""
    import shlex

    import yaml

    from tests.deploy.lifecycle import register, set_up

    state = tmp_path / "vendor"
    assert set_up(state, register(state, "acme")).exit_code == 0
    assert run("deployments", "add", str(state / "records" / "acme.json"), "--state-dir", str(state)).exit_code == 0
    repo = tmp_path / "repo"
    (repo / "deployed").mkdir(parents=True)
    # The workflow's header says how deployed/release.json is made: that command, as written.
    workflow_text = (ROOT / "examples" / "ci" / "alien-pulumi-pr.yml").read_text()
    export = next(line.strip("# ") for line in workflow_text.splitlines() if "--record > deployed/release.json" in line)
    exported = run(*shlex.split(export.replace("NAME", "acme").split(" > ")[0])[1:], "--state-dir", str(state))
    assert exported.exit_code == 0, exported.output
    (repo / "deployed" / "release.json").write_text(exported.stdout)
    register(state, "beta")  # awaiting setup: nothing deployed to export
    awaiting = run("deployments", "show", "beta", "--record", "--state-dir", str(state))
    assert awaiting.exit_code == 2 and "has no release record yet" in awaiting.stderr and not awaiting.stdout
    (repo / "stack.py").write_text(QUICKSTART.read_text())
    monkeypatch.chdir(repo)
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "alien-pulumi-pr.yml").read_text())
    lines = [s["run"] for s in workflow["jobs"]["preflight"]["steps"] if s.get("run", "").startswith("alien-pulumi")]
    assert len(lines) == 2
    for platform in workflow["jobs"]["preflight"]["strategy"]["matrix"]["platform"]:
        for line in lines:
            command = line.replace("${{ matrix.platform }}", platform).split(" > ")[0]
            result = run(*shlex.split(command)[1:])
            assert result.exit_code == 0, (command, result.output)
            if platform != "aws":
                assert f"not deployed on {platform}" in result.stdout
            else:
                assert "not deployed" not in result.stdout


def test_ci_workflow_builds_the_spec_artifact_a_review_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    import yaml

    from alien_pulumi.model.artifact import read_artifact

    (tmp_path / "stack.py").write_text(QUICKSTART.read_text())
    monkeypatch.chdir(tmp_path)
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "alien-pulumi-pr.yml").read_text())
    (line,) = [s["run"] for s in workflow["jobs"]["spec-artifact"]["steps"] if "alien-pulumi build" in s.get("run", "")]
    result = run(*shlex.split(line)[1:])
    assert result.exit_code == 0, result.output
    upload = next(s for s in workflow["jobs"]["spec-artifact"]["steps"] if "upload-artifact" in s.get("uses", ""))
    built = read_artifact(tmp_path / upload["with"]["path"])
    assert built.spec.digest() == alien.load_stack(QUICKSTART).digest()


def test_a_cloud_absent_from_the_deployed_record_is_not_deployed(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    spec = alien.load_stack(QUICKSTART)
    ctx = alien.DeploymentContext.example_context("aws", spec.name)
    record.write_text(json.dumps({
        "release": "r1", "deployment": "acme", "program": "provision", "context": ctx.model_dump(mode="json"),
        "spec": spec.model_dump(mode="json"), "digest": spec.digest(), "frozen_digest": spec.frozen_digest(),
        "permissions": {}, "record_version": 2}))
    for command in ("preflight", "diff"):
        result = run(command, str(QUICKSTART), "--against", str(record), "-p", "gcp", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"platform": "gcp", "deployed": False, "deployed_platforms": ["aws"],
                                             "blocked": False, "findings": []}
        human = run(command, str(QUICKSTART), "--against", str(record), "-p", "gcp")
        assert "not deployed on gcp (the deployed record holds: aws)" in human.stdout
        assert "may roll out" not in human.stdout


def test_every_json_error_is_one_document_and_versions_print() -> None:
    bad = run("synth", QUICKSTART_STR, "-p", "aws", "--account-id", "12", "--json")
    assert bad.exit_code == 2
    error = json.loads(bad.stdout)["error"]
    assert error["exit_code"] == 2 and error["problems"][0]["field"] == "--account-id"
    from importlib.metadata import version

    assert run("--version").stdout.strip() == f"alien-pulumi {version('alien-pulumi')}"
