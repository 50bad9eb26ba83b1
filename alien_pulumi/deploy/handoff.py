"""The hand-off from the admin's setup to the vendor: a setup record the vendor may import, and the
backend every later run of the deployment uses (DESIGN.md §4a: never a local default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alien_pulumi.errors import StackLoadError
from alien_pulumi.model.files import read_json
from alien_pulumi.model.record import RECORD_VERSION, ReleaseRecord


class RecordError(StackLoadError):
    """A release record that cannot be handed to the vendor."""


def import_record(path: Path) -> ReleaseRecord:
    """A setup record as its setup wrote it: of a record version this tool reads, its stack the one its digests
    name, with the state it ran on."""
    data = read_json(path)
    _check_version(data, path)
    record = ReleaseRecord.from_data(data, str(path))
    if record.program != "provision":
        raise RecordError(f"{path}: a {record.program} record; import the record the admin's setup wrote")
    if record.context.example:
        raise RecordError(f"{path}: written with an example context, not a customer's: nothing was imported")
    for field, stated, actual in (("digest", record.digest, record.spec.digest()),
                                  ("frozen_digest", record.frozen_digest, record.spec.frozen_digest())):
        if stated != actual:
            raise RecordError(f"{path}: {field} {stated[:12]} is not the digest of the record's spec "
                              f"({actual[:12]}): the record was changed after its setup wrote it; nothing was "
                              "imported")
    if not record.backend or not record.secrets_provider:
        raise RecordError(f"{path}: the record names no backend or secrets provider: run setup with "
                          "`alien-deploy up --bundle` (or `alien-deploy record` after `pulumi up`)")
    return record


def vendor_record(path: Path) -> ReleaseRecord:
    """A setup record for the vendor's registry (``import_record``), whose state a release service elsewhere can
    reach: a record on a local directory (file://, for tests and demonstrations) is refused."""
    record = import_record(path)
    if record.backend and record.backend.startswith("file:"):
        raise RecordError(f"{path}: backend {record.backend} is a local directory (for tests and demonstrations "
                          "only), which no release service elsewhere can reach: set up on the customer's state store "
                          "(alien-deploy up --bundle) and import that record; nothing was imported")
    return record


def _check_version(data: Any, path: Path) -> None:
    """A record of a newer version is refused before it is read: its fields may mean what this tool does not
    know."""
    version = data.get("record_version") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > RECORD_VERSION:
        raise RecordError(f"{path}: record_version {version} is newer than this alien-pulumi reads "
                          f"({RECORD_VERSION}): upgrade alien-pulumi; nothing was imported")
