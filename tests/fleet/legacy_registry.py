"""The registry module as it was before SQLAlchemy (hand-written SQLite migrations 1-3), read from git: the
tests write registry files with that code itself, the files vendors have, and open them with today's."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

# The last commit whose alien_pulumi/fleet/registry.py migrated by hand (PRAGMA user_version 1-3).
COMMIT = "d43fa060109be01d6f14097a3a7aff3786148649"


def legacy_registry(tmp: Path) -> ModuleType:
    """Import that module (it imports today's models, which still read what it wrote)."""
    try:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{COMMIT}:alien_pulumi/fleet/registry.py"],
                                check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"the pre-SQLAlchemy registry module is read from git history (commit {COMMIT}): {exc}")
    path = tmp / "legacy_registry_module.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("legacy_registry_module", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module
