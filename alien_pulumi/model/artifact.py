"""The spec artifact: what crosses from the vendor to the customer's side (DESIGN.md §1a).

The vendor builds it from its stack (``alien-pulumi build STACK.py --out NAME.spec.json``); the customer's tools
(``alien-deploy``, the provisioning program of a plain ``pulumi up``) read nothing else. It is data, never code:
canonical JSON of the StackSpec, every compute image pinned by digest, and the spec's own SHA-256 digest, which
the reader recomputes rather than believes::

    {"artifact_version": 1, "digest": "<sha256 of the spec's canonical JSON>", "kind": "alien-pulumi/spec",
     "spec": {...}}

Reading it never imports or runs the vendor's Python, and everything in it is checked: its kind and version, the
spec (the same validation as any stack), the digest against the content, and, for a setup, that no image is
still a tag (an artifact built with ``--no-resolve`` is for offline review only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from alien_pulumi.errors import AlienError, StackLoadError
from alien_pulumi.model.files import read_json
from alien_pulumi.model.images import unpinned_images
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.validation import parse_spec

ARTIFACT_KIND: Final = "alien-pulumi/spec"
ARTIFACT_VERSION: Final = 1
SUFFIX: Final = ".spec.json"
FIELDS: Final = {"kind", "artifact_version", "digest", "spec"}


class ArtifactError(StackLoadError):
    """A spec artifact that cannot be used: unreadable, malformed, another version, a digest that does not match
    its content, or (for a setup) an image not pinned by digest. Nothing is bootstrapped or written (exit 1)."""


@dataclass(frozen=True)
class SpecArtifact:
    spec: StackSpec
    digest: str

    @classmethod
    def of(cls, spec: StackSpec) -> SpecArtifact:
        return cls(spec, spec.digest())

    def document(self) -> dict[str, Any]:
        return {"kind": ARTIFACT_KIND, "artifact_version": ARTIFACT_VERSION, "digest": self.digest,
                "spec": self.spec.canonical()}

    def to_json(self) -> str:
        """Canonical: sorted keys, resources sorted by id, two-space indent (reviewable, and the same bytes for
        the same spec on every machine)."""
        return json.dumps(self.document(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")


def require_pinned(spec: StackSpec, where: str) -> None:
    """A setup deploys digests only: a tag could be re-pushed under a frozen compute after the admin's review."""
    unpinned = unpinned_images(spec)
    if unpinned:
        listed = ", ".join(f"{rid}.image = {image}" for rid, image in unpinned)
        raise ArtifactError(f"{where}: images not pinned by digest ({listed}): setup deploys digests only; ask "
                            "the vendor for an artifact built without --no-resolve")


def is_artifact(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == ARTIFACT_KIND


def parse_artifact(data: Any, where: str) -> SpecArtifact:
    """An artifact document, checked field by field; ``where`` names it in every error."""
    if not is_artifact(data):
        found = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise ArtifactError(f"{where}: not a spec artifact (kind {found!r}, expected {ARTIFACT_KIND!r}); ask the "
                            "vendor for the artifact `alien-pulumi build STACK.py --out NAME.spec.json` writes")
    version = data.get("artifact_version")
    if version != ARTIFACT_VERSION:
        newer = isinstance(version, int) and not isinstance(version, bool) and version > ARTIFACT_VERSION
        raise ArtifactError(f"{where}: artifact_version {version!r}; this alien-pulumi reads version "
                            f"{ARTIFACT_VERSION}" + (": upgrade alien-pulumi" if newer else ""))
    unknown = sorted(set(data) - FIELDS)
    missing = sorted(FIELDS - set(data))
    if unknown or missing:
        field = (missing or unknown)[0]
        raise ArtifactError(f"{where}: field {field!r} {'is missing' if missing else 'is not an artifact field'}")
    digest = data["digest"]
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ArtifactError(f"{where}: field 'digest' is not a SHA-256 hex digest")
    try:
        spec = parse_spec(data["spec"])
    except AlienError as exc:
        raise ArtifactError(f"{where}: field 'spec': {exc}") from None
    if spec.digest() != digest:
        raise ArtifactError(f"{where}: field 'digest' does not match the spec (states {digest[:12]}, computed "
                            f"{spec.digest()[:12]}): the artifact was changed after it was built")
    return SpecArtifact(spec, digest)


def read_artifact(path: Path, *, pinned: bool = False) -> SpecArtifact:
    """The artifact in ``path``, verified; with ``pinned`` also every image pinned by digest (a setup). A Python
    file is refused without being opened: the customer's side never runs the vendor's code."""
    if path.suffix == ".py":
        raise ArtifactError(f"{path}: a Python stack file; the customer's side never runs the vendor's code: ask the "
                            f"vendor for its spec artifact (alien-pulumi build {path.name} --out "
                            f"{path.stem}{SUFFIX})")
    if not path.is_file():
        raise ArtifactError(f"{path}: no such file")
    artifact = parse_artifact(read_json(path), str(path))
    if pinned:
        require_pinned(artifact.spec, str(path))
    return artifact
