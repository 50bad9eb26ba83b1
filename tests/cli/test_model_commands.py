"""validate, show and schema, driven through the CLI with parsed output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import run, run_json
from tests.conftest import EXAMPLES, ROOT, quickstart

QUICKSTART = str(ROOT / "examples" / "my_app.py")


def test_validate_ok() -> None:
    result = run("validate", QUICKSTART)
    assert result.exit_code == 0
    assert "stack 'my-app' is valid: 7 resources (5 frozen, 2 live) on aws, gcp, azure" in result.stdout


def test_show_json_is_pure_json() -> None:
    data = run_json("show", QUICKSTART)
    spec = quickstart()
    assert data["stack"] == "my-app"
    assert data["digest"] == spec.digest() and data["frozen_digest"] == spec.frozen_digest()
    assert data["resources"][5] == {"id": "api", "type": "function", "lifecycle": "live", "links": ["data", "jobs"],
                                    "profile": "app"}
    assert data["spec"] == spec.model_dump(mode="json")


def test_show_table() -> None:
    result = run("show", QUICKSTART)
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if " web " in line]
    assert lines and all(word in lines[0] for word in ("container", "live", "cache", "app"))


def test_json_spec_file_is_a_stack(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(quickstart().to_json())
    assert run_json("show", str(path))["digest"] == quickstart().digest()
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"spec": json.loads(path.read_text()), "digest": "x"}))
    assert run("validate", str(record)).exit_code == 0


def test_invalid_stack_exits_1_with_every_problem_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(
        "import alien_pulumi as alien\n"
        "stack = alien.Stack('s').platforms('aws').add(alien.Storage('b', retention_days=0), 'frozen')"
        ".add(alien.Function('f', image='i', links=['x']), 'live').build()\n"
    )
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "b.retention_days: must be >= 1 (got 0)" in result.stderr
    assert "f.links: names 'x', which is not a resource of this stack" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "defines no StackSpec"),
        ("raise RuntimeError('boom')\n", "(line 1): RuntimeError: boom"),
        ("import alien_pulumi as a\nx = a.Stack('a').platforms('aws').build()\n"
         "y = a.Stack('b').platforms('aws').build()\n", "defines 2 StackSpecs"),
    ],
)
def test_bad_stack_files(tmp_path: Path, source: str, message: str) -> None:
    path = tmp_path / "stack.py"
    path.write_text(source)
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert message in result.stderr


def test_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text("{not json")
    result = run("validate", str(path))
    assert result.exit_code == 1 and "not valid JSON: line 1 column 2" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("validate", str(tmp_path / "missing.py")).exit_code == 2
    assert run("show").exit_code == 2
    assert run("frobnicate").exit_code == 2


def test_schema_is_json_schema() -> None:
    result = run("schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "StackSpec"
    assert set(schema["required"]) >= {"name", "platforms", "resources"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_valid(example: Path) -> None:
    data = run_json("validate", str(example))
    assert data["valid"] is True


def test_console_scripts_are_installed() -> None:
    bindir = Path(sys.executable).parent
    tool = shutil.which("alien-pulumi", path=str(bindir)) or shutil.which("alien-pulumi")
    assert tool, "alien-pulumi is not installed beside this Python"
    out = subprocess.run([tool, "show", QUICKSTART, "--json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["stack"] == "my-app"
    deploy = subprocess.run([str(Path(tool).with_name("alien-deploy")), "--help"], capture_output=True, text=True,
                            check=True)
    assert "alien-deploy" in deploy.stdout
