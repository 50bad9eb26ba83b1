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
from tests.conftest import CATALOGS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TYPES = tuple(t.value for t in ResourceType)
DATA_TYPES = frozenset(t.value for t in DATA_KINDS)
COMPUTE_TYPES = frozenset(t.value for t in COMPUTE_KINDS)
NON_DATA_SETS = ("heartbeat", "management", "provision")
SCOPES = {"resource", "stack", "account"}
# The state store's sets (DESIGN.md §4a): the one data the management identity touches, the deployment's own
# Pulumi state; checked by their own tests (bound to the state store only), exempt from the data rules.
STATE = "state"
STATE_PLACEHOLDERS = {"state_bucket", "state_key", "state_key_ring", "state_resource_group", "state_account",
                      "state_container", "state_vault", "setup_bucket", "setup_container", "setup_record"}


def sets_dir(cloud: str) -> Path:
    return PROJECT_ROOT / "alien_pulumi" / "permissions" / "sets" / cloud


def catalog(name: str) -> Path:
    """``tests/data/catalogs/<name>``: the IAM catalogs are test data of the repository (provenance and licence
    beside them), so the suite needs nothing outside a plain clone."""
    return CATALOGS / name


def load_catalog(name: str) -> dict[str, Any]:
    """A catalog of tests/data/catalogs. A missing catalog fails the test: the permission checks are only as good
    as the independent sources they run against, and a run without them must not pass (or skip) silently."""
    path = catalog(name)
    if not path.exists():
        pytest.fail(f"catalog {name} not found at {path}: restore tests/data/catalogs from the repository")
    with gzip.open(path, "rt") as fh:
        return json.load(fh)
