"""The README's exit-code table, kept true: its rows are the codes the CLIs define, and each row's case exits with it
(the console scripts' own outcomes, Ctrl-C and a confirmation with no terminal, are in test_bad_files.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alien_pulumi.cli import common
from alien_pulumi.cli.common import run
from alien_pulumi.cli.deploy import app as admin_app
from alien_pulumi.cli.main import app as vendor_app
from tests.artifacts import artifact
from tests.conftest import ROOT
from tests.deploy.lifecycle import QUICKSTART, SHARED_STATE, deployed, register

FAST = ("--no-resolve", "--state-dir")


def readme_rows() -> dict[int, str]:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("### Exit codes"):]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| ([^|]+) \|", table, re.M)}


def test_the_table_holds_exactly_the_codes_the_clis_define() -> None:
    defined = {v for k, v in vars(common).items() if k.startswith("EXIT_") and isinstance(v, int)}
    assert set(readme_rows()) == defined == {0, 1, 2, 3, 4, 5, 6, 130}


def stack_with_problems(tmp: Path) -> Path:
    bad = tmp / "bad.py"
    bad.write_text("import alien_pulumi as alien\n"
                   "stack = alien.Stack('s').platforms('aws').add(alien.Storage('Bad Name'), 'frozen').build()\n")
    return bad


def frozen_change(tmp: Path) -> list[str]:
    changed = tmp / "changed.py"
    changed.write_text(QUICKSTART.read_text().replace("versioning=True", "versioning=False"))
    return ["preflight", str(changed), "--against", str(QUICKSTART)]


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4, 5, 6])
def test_each_row_of_the_table(code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if code == 0:
        assert run(vendor_app, ["validate", str(QUICKSTART)]) == 0
    elif code == 1:
        assert run(vendor_app, ["validate", str(stack_with_problems(tmp_path))]) == 1
        bundle = register(tmp_path, "acme")
        bundle.write_text(bundle.read_text()[:40])  # truncated in transit
        assert run(admin_app, ["access", "--bundle", str(bundle)]) == 1
    elif code == 2:
        assert run(vendor_app, ["validate", "--bogus"]) == 2
        assert run(admin_app, ["up", str(artifact(QUICKSTART)), "-p", "aws", "--region", "eu-west-1",
                               "--engine", "simulated:1", "--state-dir", str(tmp_path), "--yes"]) == 2
    elif code == 3:
        assert run(vendor_app, frozen_change(tmp_path)) == 3
    elif code == 4:
        deployed(tmp_path, "acme", engine="simulated:5")
        assert run(vendor_app, ["release", str(QUICKSTART), "-d", "acme", "--release-id", "r2", "--engine",
                                "simulated:5;fail=acme", *FAST, str(tmp_path)]) == 4
    elif code == 5:
        from typer.testing import CliRunner

        declined = CliRunner().invoke(admin_app, [
            "up", str(artifact(QUICKSTART)), "--bundle", str(register(tmp_path, "acme")), "--engine",
            "simulated:1", "--state-dir", str(tmp_path), *SHARED_STATE], input="n\n")
        assert declined.exit_code == 5, declined.output
    elif code == 6:
        deployed(tmp_path, "acme", engine="simulated:5")
        assert run(vendor_app, ["release", str(QUICKSTART), "-d", "acme", "--release-id", "r2", "--engine",
                                "simulated:5;revoked=acme", *FAST, str(tmp_path)]) == 6
    assert "Traceback" not in capsys.readouterr().err
