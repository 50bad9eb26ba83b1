"""Spec artifacts for the customer's side in tests: alien-deploy and the provisioning program read nothing else.

``artifact(stack)`` builds what ``alien-pulumi build`` writes from a vendor's stack file, with every compute image
pinned to a digest derived from its reference (a registry that answers is exercised by tests/automation/
test_digests.py; here the digest only has to be a digest, the same for the same reference)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from alien_pulumi.model.artifact import SpecArtifact
from alien_pulumi.model.loader import load_stack
from alien_pulumi.model.resources import ComputeSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.validation import parse_spec

CACHE = Path(tempfile.gettempdir()) / "alien-test-artifacts"


def digest_of(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def pinned(spec: StackSpec) -> StackSpec:
    """``spec`` with every compute image that names no digest pinned to ``digest_of`` its reference."""
    data = spec.model_dump(mode="json")
    for res, raw in zip(spec.resources, data["resources"], strict=True):
        if isinstance(res, ComputeSpec) and "@" not in res.image:
            raw["image"] = f"{res.image}@{digest_of(res.image)}"
    return parse_spec(data)


def artifact(stack: Path | StackSpec, *, pin: bool = True) -> Path:
    """The spec artifact of ``stack`` (a vendor's stack file or a spec), images pinned unless ``pin`` is false;
    written once per content under a shared directory (atomic rename: parallel test workers share it)."""
    spec = load_stack(stack) if isinstance(stack, Path) else stack
    built = SpecArtifact.of(pinned(spec) if pin else spec)
    text = built.to_json()
    path = CACHE / f"{spec.name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.spec.json"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(text)
        scratch.replace(path)
    return path
