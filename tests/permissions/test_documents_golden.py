"""The customer's documents of the example stacks, on every cloud they declare, as reviewed files.

A change to a permission set, a claim or the document's wording changes these files, so it shows in review as
the sentences a customer's security team will read. Regenerate after a deliberate change with
``ALIEN_UPDATE_DOCUMENTS=1 python -m pytest tests/permissions/test_documents_golden.py`` and read the diff.
"""

from __future__ import annotations

import os

import pytest

import alien_pulumi as alien
from alien_pulumi.model.loader import load_stack
from alien_pulumi.permissions.plan import derive_plan
from alien_pulumi.permissions.render.markdown import render_markdown
from tests.conftest import ROOT

DOCUMENTS = ROOT / "tests" / "data" / "documents"
EXAMPLES = ("my_app", "saas_api", "event_pipeline", "data_connector")
CASES = [(name, p.value) for name in EXAMPLES for p in load_stack(ROOT / "examples" / f"{name}.py").platforms]


@pytest.mark.parametrize(("example", "platform"), CASES)
def test_document_matches_the_reviewed_file(example: str, platform: str) -> None:
    spec = load_stack(ROOT / "examples" / f"{example}.py")
    text = render_markdown(derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name)))
    path = DOCUMENTS / f"{example}-{platform}.md"
    if os.environ.get("ALIEN_UPDATE_DOCUMENTS") == "1":
        path.write_text(text)
    assert path.is_file(), f"{path.name} is missing: regenerate with ALIEN_UPDATE_DOCUMENTS=1 and review it"
    assert text == path.read_text(), (f"the document of {example} on {platform} changed: regenerate with "
                                      "ALIEN_UPDATE_DOCUMENTS=1 and review the diff")


def test_every_reviewed_file_is_an_example_document() -> None:
    assert {p.name for p in DOCUMENTS.glob("*.md")} == {f"{e}-{p}.md" for e, p in CASES}
