"""The hand-off from the admin's setup to the vendor: a setup record the vendor may import, and the
backend every later run of the deployment uses (DESIGN.md §4a: never a local default)."""

from __future__ import annotations

from pathlib import Path

from alien_pulumi.errors import StackLoadError
from alien_pulumi.model.files import read_json
from alien_pulumi.model.record import ReleaseRecord


class RecordError(StackLoadError):
    """A release record that cannot be handed to the vendor."""


def import_record(path: Path) -> ReleaseRecord:
    """A setup record for the registry: a real setup's, with the state it ran on."""
    record = ReleaseRecord.from_data(read_json(path), str(path))
    if record.program != "provision":
        raise RecordError(f"{path}: a {record.program} record; import the record the admin's setup wrote")
    if record.context.example:
        raise RecordError(f"{path}: written with an example context, not a customer's: nothing was imported")
    if not record.backend or not record.secrets_provider:
        raise RecordError(f"{path}: the record names no backend or secrets provider: run setup with "
                          "`alien-deploy up --bundle` (or `alien-deploy record` after `pulumi up`)")
    return record


def local_state(record: ReleaseRecord) -> str | None:
    """The warning for a record whose state is a local directory (tests, demonstrations): only a release
    service on that same machine can run on it."""
    if record.backend and record.backend.startswith("file:"):
        return (f"the state of {record.deployment} is a local directory ({record.backend}): for tests and "
                "demonstrations only; a real deployment sets up on its state store (alien-deploy up --bundle)")
    return None
