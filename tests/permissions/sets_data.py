"""What the per-cloud permission-set tests share: the type vocabulary (from the package, not a copy),
where each cloud's set files are, and where the catalogs are."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from alien_pulumi.model.types import COMPUTE_TYPES as COMPUTE_KINDS
from alien_pulumi.model.types import DATA_TYPES as DATA_KINDS
from alien_pulumi.model.types import ResourceType

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TYPES = tuple(t.value for t in ResourceType)
DATA_TYPES = frozenset(t.value for t in DATA_KINDS)
COMPUTE_TYPES = frozenset(t.value for t in COMPUTE_KINDS)
NON_DATA_SETS = ("heartbeat", "management", "provision")
SCOPES = {"resource", "stack", "account"}


def sets_dir(cloud: str) -> Path:
    return PROJECT_ROOT / "alien_pulumi" / "permissions" / "sets" / cloud


def catalog(name: str) -> Path:
    return (PROJECT_ROOT / ".." / "shared" / "catalogs" / name).resolve()


def load_catalog(name: str) -> dict[str, Any]:
    """A catalog from ../shared/catalogs; skip with the reason where that folder is absent."""
    path = catalog(name)
    if not path.exists():
        pytest.skip(f"catalog {name} not found at {path} (only present in the project's workplace)")
    with gzip.open(path, "rt") as fh:
        return json.load(fh)
