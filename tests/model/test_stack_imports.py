"""A stack file may import its sibling modules, as `python stack.py` would let it; the import path is left as it
was found."""

from __future__ import annotations

import sys
from pathlib import Path

from alien_pulumi.model.loader import load_stack


def test_a_stack_imports_a_module_beside_it_and_the_import_path_is_restored(tmp_path: Path) -> None:
    (tmp_path / "shared_resources_for_test.py").write_text(
        "import alien_pulumi as alien\nbucket = alien.Storage('data', versioning=True)\n")
    stack = tmp_path / "stack.py"
    stack.write_text("import alien_pulumi as alien\nfrom shared_resources_for_test import bucket\n"
                     "stack = alien.Stack('s').platforms('aws').add(bucket, 'frozen').build()\n")
    before = list(sys.path)
    try:
        spec = load_stack(stack)
    finally:
        sys.modules.pop("shared_resources_for_test", None)
    assert [r.id for r in spec.resources] == ["data"]
    assert sys.path == before
