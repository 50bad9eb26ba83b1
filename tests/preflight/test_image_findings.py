"""Preflight of image sources: a new mirror needs setup; a registry change shows what live compute pulls before
and after; a pinned tag shows as tag -> digest."""

from __future__ import annotations

import alien_pulumi as alien
from alien_pulumi.preflight import preflight
from alien_pulumi.preflight.deployed import from_spec
from alien_pulumi.preflight.findings import Code

DIGEST = "sha256:" + "ab" * 32


def spec(registry: str, image: str = "web:1") -> alien.StackSpec:
    return (alien.Stack("img", images=alien.Registry(registry)).platforms("gcp", "azure")
            .add(alien.Container("web", image=image), "live").build())


def test_a_new_mirror_needs_setup() -> None:
    deployed = from_spec(spec("us-docker.pkg.dev/vendor/acme"))
    report = preflight(spec("ghcr.io/acme"), deployed, alien.Platform.GCP)
    [mirror] = [f for f in report.findings if f.code is Code.IMAGE_MIRROR_ADDED]
    assert mirror.blocks and mirror.needs_setup and "img-ghcr-io" in mirror.message and "ghcr.io" in mirror.message
    assert report.blocked
    [moved] = [f for f in report.findings if f.code is Code.LIVE_CHANGED and f.field == "image"]
    assert moved.old == "us-docker.pkg.dev/vendor/acme/web:1"
    assert moved.new == "us-central1-docker.pkg.dev/acme-customer-prod/img-ghcr-io/acme/web:1"


def test_the_same_mirror_does_not_block() -> None:
    deployed = from_spec(spec("ghcr.io/acme"))
    report = preflight(spec("ghcr.io/acme", "web:2"), deployed, alien.Platform.GCP)
    assert not report.blocked
    assert not [f for f in report.findings if f.code is Code.IMAGE_MIRROR_ADDED]


def test_a_pinned_release_shows_tag_to_digest() -> None:
    deployed = from_spec(spec("ghcr.io/acme"))
    report = preflight(spec("ghcr.io/acme", f"web:1@{DIGEST}"), deployed, alien.Platform.AZURE)
    [change] = [f for f in report.findings if f.code is Code.LIVE_CHANGED]
    assert (change.old, change.new) == ("web:1", f"web:1@{DIGEST}") and not report.blocked
