"""No traceback for any input (issue: first day as a user): every command that reads a file is fed one that is not
UTF-8, empty, truncated, a directory, unreadable and missing, and answers with one clear error naming the file and
the documented exit code (1 invalid input, 2 usage), with ``--json`` one JSON document; and the console scripts' own
outcomes (usage errors, a confirmation with no terminal, Ctrl-C) keep to the exit-code table too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from alien_pulumi.cli.common import run
from alien_pulumi.cli.deploy import app as admin_app
from alien_pulumi.cli.main import app as vendor_app
from tests.artifacts import artifact
from tests.deploy.lifecycle import QUICKSTART, register

# /proc/self/mem exists and is a file, but reading it from the start fails (EIO), even as root.
UNREADABLE = Path("/proc/self/mem")


def bad_files(tmp: Path) -> dict[str, Path]:
    (tmp / "dir").mkdir()
    files = {"not-utf8": b"\xff\xfe\x00\x81 not text", "empty": b"", "truncated": b'{"kind": "alien-pulumi/spec", "ar'}
    out = {name: tmp / f"{name}.json" for name in files}
    for name, data in files.items():
        out[name].write_bytes(data)
    return {**out, "directory": tmp / "dir", "unreadable": UNREADABLE, "missing": tmp / "missing.json"}


def commands(tmp: Path, bad: Path) -> list[tuple[str, list[str]]]:
    """(which CLI, arguments) for every command that reads a file given on its command line."""
    good = str(artifact(QUICKSTART))
    bundle = str(register(tmp, "acme"))
    return [
        ("vendor", ["validate", str(bad)]),
        ("vendor", ["show", str(bad)]),
        ("vendor", ["build", str(bad), "--out", str(tmp / "out.spec.json")]),
        ("vendor", ["permissions", str(bad), "-p", "aws"]),
        ("vendor", ["synth", str(bad), "-p", "aws"]),
        ("vendor", ["preflight", good, "--against", str(bad)]),
        ("vendor", ["diff", good, "--against", str(bad), "-p", "aws"]),
        ("vendor", ["deployments", "add", str(bad), "--state-dir", str(tmp / "vendor")]),
        ("admin", ["permissions", str(bad), "-p", "aws"]),
        ("admin", ["preview", str(bad), "--bundle", bundle, "--state-dir", str(tmp)]),
        ("admin", ["preview", good, "--bundle", str(bad), "--state-dir", str(tmp)]),
        ("admin", ["review", str(bad)]),
        ("admin", ["access", "--bundle", str(bad)]),
        ("admin", ["access", "--record", str(bad)]),
        ("admin", ["revoke", "--record", str(bad)]),
        ("admin", ["bootstrap", "--bundle", bundle, "--spec", str(bad)]),
        ("admin", ["record", str(bad), "--bundle", bundle, "--state-dir", str(tmp)]),
    ]


KINDS = ["not-utf8", "empty", "truncated", "directory", "unreadable", "missing"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_command_that_reads_a_file_refuses_a_bad_one_in_one_line(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = bad_files(tmp_path)[kind]
    failures = []
    for cli, args in commands(tmp_path, bad):
        app = vendor_app if cli == "vendor" else admin_app
        code = run(app, [*args, "--json"] if "--json" not in args and _takes_json(app, args) else args)
        captured = capsys.readouterr()
        problem = None
        if code not in (1, 2):
            problem = f"exit {code}"
        elif "Traceback" in captured.err + captured.out:
            problem = "traceback"
        elif str(bad) not in captured.err and bad.name not in captured.err:
            problem = f"the error does not name the file: {captured.err.strip()!r}"
        if problem:
            failures.append(f"{cli} {' '.join(args[:2])}: {problem}")
    assert not failures, "\n".join(failures)


def _takes_json(app: object, args: list[str]) -> bool:
    """Whether the command has --json (asked of its own help, so the test follows the CLI)."""
    return "--json" in _help(app, args[: 2 if args[0] == "deployments" else 1])


def _help(app: object, command: list[str]) -> str:
    from typer.testing import CliRunner

    return CliRunner().invoke(app, [*command, "--help"]).output  # type: ignore[arg-type]


def test_a_usage_error_with_json_prints_one_json_document(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for args in (["access", "--bundle", str(tmp_path / "missing.json"), "--json"], ["access", "--bogus", "--json"]):
        assert run(admin_app, args) == 2
        document = json.loads(capsys.readouterr().out)
        assert document["error"]["exit_code"] == 2 and document["error"]["message"], args


def test_a_confirmation_with_no_terminal_is_declined_not_aborted(tmp_path: Path) -> None:
    """`deployments remove` asks first; with stdin closed it neither removes nor prints "Aborted!"."""
    state = tmp_path / "vendor"
    register(state, "acme")
    done = subprocess.run([sys.executable, "-c", "from alien_pulumi.cli.entry import vendor; vendor()",
                           "deployments", "remove", "acme", "--state-dir", str(state), "--json"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 5, done.stderr
    assert json.loads(done.stdout)["error"]["exit_code"] == 5
    assert "Aborted" not in done.stderr and "--yes" in done.stderr


def test_ctrl_c_while_the_cli_starts_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """SIGINT lands during the imports of the CLI (a rollout's are the longest): exit 130, one line."""
    ready = tmp_path / "importing"
    # A module imported first blocks until the test interrupts it: the signal is certain to land mid-import.
    (tmp_path / "sitecustomize.py").write_text(
        "import builtins, os, time, pathlib\n"
        "_import = builtins.__import__\n"
        "def _slow(name, *args, **kwargs):\n"
        "    if name == 'alien_pulumi.cli.release_cmd':\n"
        f"        pathlib.Path({str(ready)!r}).touch()\n"
        "        while True: time.sleep(0.05)\n"
        "    return _import(name, *args, **kwargs)\n"
        "builtins.__import__ = _slow\n")
    proc = subprocess.Popen([sys.executable, "-c", "from alien_pulumi.cli.entry import vendor; vendor()",
                             "rollout", "--help"], env={**os.environ, "PYTHONPATH": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ready, proc)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip() == "interrupted"


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    """Until the child says it is importing (an event, not a fixed sleep), or it ended without getting there."""
    import select

    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        select.select([], [], [], 0.02)


def test_a_state_directory_that_is_a_file_or_cannot_be_made_and_a_damaged_registry_are_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    assert run(vendor_app, ["deployments", "list", "--state-dir", str(a_file)]) == 2
    assert capsys.readouterr().err.strip() == (f"error: the state directory {a_file} (--state-dir) is not a "
                                               "directory: give a directory")
    monkeypatch.setenv("ALIEN_PULUMI_STATE_DIR", str(a_file / "below"))
    assert run(vendor_app, ["deployments", "list"]) == 2
    assert "($ALIEN_PULUMI_STATE_DIR) cannot be created: Not a directory" in capsys.readouterr().err
    damaged = tmp_path / "state"
    damaged.mkdir()
    (damaged / "registry.db").write_bytes(b"garbage, not SQLite" * 10)
    before = (damaged / "registry.db").read_bytes()
    assert run(vendor_app, ["deployments", "list", "--state-dir", str(damaged), "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["message"].startswith(f"the registry {damaged / 'registry.db'} is not a "
                                                                   "registry database")
    assert "Traceback" not in captured.err and (damaged / "registry.db").read_bytes() == before
