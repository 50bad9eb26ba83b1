"""The spec artifact: canonical, verified on reading, and every malformed one refused naming the file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import alien_pulumi as alien
from alien_pulumi.model.artifact import ARTIFACT_KIND, ArtifactError, SpecArtifact, read_artifact
from tests.artifacts import pinned
from tests.conftest import quickstart


def written(tmp_path: Path, spec: alien.StackSpec | None = None) -> Path:
    path = tmp_path / "app.spec.json"
    SpecArtifact.of(spec or pinned(quickstart())).write(path)
    return path


def test_round_trip_keeps_the_spec_and_its_digest(tmp_path: Path) -> None:
    spec = pinned(quickstart())
    artifact = read_artifact(written(tmp_path, spec), pinned=True)
    assert artifact.spec.digest() == spec.digest() == artifact.digest
    assert artifact.spec.canonical() == spec.canonical()


def test_the_same_spec_gives_the_same_bytes_whatever_its_resource_order() -> None:
    spec = pinned(quickstart())
    data = spec.model_dump(mode="json")
    data["resources"] = list(reversed(data["resources"]))
    reordered = alien.parse_spec(data)
    assert [r.id for r in reordered.resources] != [r.id for r in spec.resources]
    assert SpecArtifact.of(reordered).to_json() == SpecArtifact.of(spec).to_json()


def test_a_setup_refuses_images_still_tags(tmp_path: Path) -> None:
    path = written(tmp_path, quickstart())  # as `alien-pulumi build --no-resolve` writes it
    assert read_artifact(path).spec.name == "my-app"  # fine for review
    with pytest.raises(ArtifactError, match=r"api\.image = api:1\.4\.2.*without --no-resolve"):
        read_artifact(path, pinned=True)


def edit(path: Path, change: object) -> Path:
    data = json.loads(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["spec"]["resources"][0].update(lifecycle={"live": "frozen", "frozen": "live"}[
        d["spec"]["resources"][0]["lifecycle"]]), r"field 'digest' does not match the spec"),
    (lambda d: d.update(digest="0" * 64), r"field 'digest' does not match"),
    (lambda d: d.update(digest="sha256:abc"), r"field 'digest' is not a SHA-256 hex digest"),
    (lambda d: d.update(artifact_version=2), r"artifact_version 2; this alien-pulumi reads version 1: upgrade"),
    (lambda d: d.update(artifact_version="1"), r"artifact_version '1'"),
    (lambda d: d.update(kind="alien-pulumi/setup-request"), r"not a spec artifact \(kind 'alien-pulumi/setup-req"),
    (lambda d: d.pop("spec"), r"field 'spec' is missing"),
    (lambda d: d.update(program="print('x')"), r"field 'program' is not an artifact field"),
    (lambda d: d["spec"]["resources"][0].update(id="Bad Id"), r"field 'spec': stack 'my-app' is invalid"),
])
def test_a_malformed_artifact_is_refused_naming_the_field(tmp_path: Path, change: object, message: str) -> None:
    path = edit(written(tmp_path), change)
    with pytest.raises(ArtifactError, match=message) as raised:
        read_artifact(path, pinned=True)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(("content", "message"), [
    (None, r"not valid JSON: line \d+ column \d+"),  # truncated
    (b"\xff\xfe{\x00", r"not UTF-8 text"),
    (b"[1, 2]", r"not a spec artifact \(kind 'list'"),
    (b'{"kind": "alien-pulumi/spec"}', r"artifact_version None"),
])
def test_an_unreadable_artifact_is_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = written(tmp_path)
    path.write_bytes(path.read_bytes()[:200] if content is None else content)
    with pytest.raises(ArtifactError if content is not None and content.startswith(b"[") else Exception,
                       match=message) as raised:
        read_artifact(path)
    assert isinstance(raised.value, alien.StackLoadError) and str(path) in str(raised.value)


def test_a_python_file_is_refused_without_being_read(tmp_path: Path) -> None:
    stack = tmp_path / "stack.py"
    stack.write_text("raise SystemExit('ran')\n")
    stack.chmod(0)  # not even opened: an unreadable file is refused the same way
    with pytest.raises(ArtifactError, match=r"never runs the vendor's code.*alien-pulumi build stack\.py --out "
                                            r"stack\.spec\.json"):
        read_artifact(stack)


def test_kind_is_the_documented_one(tmp_path: Path) -> None:
    assert json.loads(written(tmp_path).read_text())["kind"] == ARTIFACT_KIND == "alien-pulumi/spec"
