"""Reading the JSON files the two sides hand each other (bundles, records, spec artifacts): one clear error per
file that cannot be read, never a traceback. Neither side's Python runs here: this module only parses data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alien_pulumi.errors import StackLoadError


def read_json(file: Path) -> Any:
    """The JSON document in ``file``; unreadable, not UTF-8 or not JSON is a ``StackLoadError`` naming it."""
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StackLoadError(f"{file}: not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise StackLoadError(f"{file}: not UTF-8 text (byte {exc.start}): not a JSON document") from None
    except OSError as exc:
        raise StackLoadError(f"{file}: cannot be read: {exc.strerror or exc}") from None
