"""The vendor's stack files: Python that defines a StackSpec (run here, on the vendor's machine), a spec artifact
or spec JSON. Only the vendor's commands import this module; ``alien-deploy`` reads spec artifacts alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alien_pulumi.model.files import read_json
from alien_pulumi.model.loader import load_stack
from alien_pulumi.model.record import ReleaseRecord, is_record
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.preflight import Deployed, from_record, from_spec

StackArg = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, metavar="STACK",
                   help="Stack file: Python defining a StackSpec, a spec artifact or spec JSON."),
]


def load(path: Path) -> StackSpec:
    return load_stack(path)


def load_deployed(path: Path) -> Deployed:
    """What ``preflight --against`` compares with: a release record JSON, or any stack file ``load`` reads."""
    if path.suffix == ".json":
        data = read_json(path)
        if is_record(data):
            return from_record(ReleaseRecord.from_data(data, str(path)))
    return from_spec(load_stack(path))
