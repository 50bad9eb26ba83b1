"""The README works as written: every command block that needs no cloud runs here, and the two commands of its
first screen are the ones CI runs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from alien_pulumi.cli.common import run
from alien_pulumi.cli.deploy import app as admin_app
from alien_pulumi.cli.main import app as vendor_app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.M | re.S)


def commands(block: str) -> list[list[str]]:
    """The block's command lines, split as a shell would (comments cut)."""
    # A placeholder (`<the request's release>`) is for the reader to fill: drop it before splitting.
    split = [shlex.split(re.sub(r"<[^>]*>", "X", line), comments=True) for line in block.splitlines()]
    return [argv for argv in split if argv]


def cli(argv: list[str]) -> int:
    app = {"alien-pulumi": vendor_app, "alien-deploy": admin_app}[argv[0]]
    return run(app, argv[1:])


def test_the_first_screen_runs_the_main_job_and_names_the_test_command_ci_runs() -> None:
    first = blocks("bash")[0]
    main_job, _test = commands(first)
    # `pip install -e . && alien-pulumi synth ...`: the package is installed here; the synth runs as written.
    synth = main_job[main_job.index("&&") + 1:]
    assert synth[:2] == ["alien-pulumi", "synth"]
    assert cli(synth) == 0
    test_line = next(line for line in first.splitlines() if line.startswith("tools/test-deps.sh"))
    assert test_line in (ROOT / ".ci" / "run").read_text().splitlines(), "CI runs the README's test command exactly"


def test_the_stack_example_builds(tmp_path: Path) -> None:
    (python,) = blocks("python")
    namespace: dict[str, object] = {}
    exec(compile(python, "README.md", "exec"), namespace)
    from alien_pulumi.model.spec import StackSpec

    stack = namespace["stack"]
    assert isinstance(stack, StackSpec) and {r.id for r in stack.resources} == {"data", "jobs", "api"}


def test_the_end_to_end_block_runs_as_written_up_to_the_cloud(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Its offline steps, in order, in an empty directory: registering the deployment with the vendor config of the
    README's toml block, then the admin's review of the vendor's artifact; the lines that need a cloud (build's
    digest resolution, up, release) are the ones the lifecycle tests run against moto and the real engine."""
    (toml,) = blocks("toml")
    config = tmp_path / "config.toml"
    config.write_text(toml)
    monkeypatch.setenv("ALIEN_PULUMI_CONFIG", str(config))
    monkeypatch.setenv("ALIEN_PULUMI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "examples" / "my_app.py", tmp_path / "stack.py")
    end_to_end = next(b for b in blocks("bash") if "deployments new acme" in b)
    ran = []
    for argv in commands(end_to_end):
        if argv[:3] == ["alien-pulumi", "deployments", "new"]:
            assert cli(argv) == 0
            bundle = json.loads((tmp_path / "acme.bundle.json").read_text())
            assert bundle["context"]["vendor_principal"] == "arn:aws:iam::111122223333:role/alien-release"
        elif argv[:2] == ["alien-pulumi", "build"]:
            # No registry here to resolve tags: the same command, offline (what a review may use, never a setup).
            assert cli([*argv, "--no-resolve"]) == 0
        elif argv[:2] == ["alien-deploy", "permissions"]:
            target = argv.index(">") if ">" in argv else len(argv)
            assert cli(argv[:target]) == 0
        else:
            continue
        ran.append(" ".join(argv[:3]))
    assert ran == ["alien-pulumi deployments new", "alien-pulumi build stack.py",
                   "alien-deploy permissions acme.spec.json"]
