"""Load a stack from a file, on the vendor's side: a Python file defining a ``StackSpec`` (run here), or JSON (a
spec artifact, a plain spec or a release record). The customer's side never imports this module (an
import-linter contract): it reads spec artifacts only (``alien_pulumi.model.artifact``)."""

from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

from alien_pulumi.errors import AlienError, StackLoadError
from alien_pulumi.model.artifact import is_artifact, parse_artifact
from alien_pulumi.model.files import read_json
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.validation import parse_spec


def load_stack(path: str | Path) -> StackSpec:
    """Load ``path``: ``.py`` runs the file and takes its module-level ``stack`` (or its only StackSpec);
    ``.json`` is a spec artifact (verified), a serialized spec, or a release record whose ``spec`` key holds one."""
    file = Path(path)
    if not file.is_file():
        raise StackLoadError(f"{file}: no such file")
    if file.suffix == ".json":
        data = read_json(file)
        if is_artifact(data):
            return parse_artifact(data, str(file)).spec
        return parse_spec(_spec_data(data, file))
    if file.suffix == ".py":
        return _load_python(file)
    raise StackLoadError(f"{file}: a stack is a .py file defining a StackSpec or a .json spec")


def _spec_data(data: Any, file: Path) -> Any:
    # A release record carries the deployed spec under "spec".
    if isinstance(data, dict) and "spec" in data and "resources" not in data:
        return data["spec"]
    return data


def _load_python(file: Path) -> StackSpec:
    # As `python stack.py` does: the stack's own folder comes first on the import path, so a stack may import its
    # sibling modules (a helper defining shared resources); restored afterwards.
    folder = str(file.resolve().parent)
    sys.path.insert(0, folder)
    try:
        namespace = runpy.run_path(str(file), run_name="__alien_stack__")
    except AlienError:
        raise
    except SystemExit as exc:
        raise StackLoadError(f"{file}: exited while loading (exit code {exc.code})") from None
    except Exception as exc:  # the user's own code failed: show where, in one line
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(file)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        raise StackLoadError(f"{file}{where}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(folder)
    stack = namespace.get("stack")
    if isinstance(stack, StackSpec):
        return stack
    specs = [v for k, v in namespace.items() if isinstance(v, StackSpec) and not k.startswith("__")]
    if len(specs) == 1:
        return specs[0]
    if not specs:
        raise StackLoadError(f"{file}: defines no StackSpec (assign Stack(...).build() to a variable 'stack')")
    raise StackLoadError(f"{file}: defines {len(specs)} StackSpecs; name the one to use 'stack'")
