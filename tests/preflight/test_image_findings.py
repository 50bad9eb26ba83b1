"""Preflight of image sources: a new mirror needs setup; a registry change shows what live compute pulls before
and after; a pinned tag shows as tag -> digest; a frozen compute pinned to another digest than deployed is a frozen
change (DESIGN.md §1a), to the same digest none."""

from __future__ import annotations

import alien_pulumi as alien
from alien_pulumi.preflight import preflight
from alien_pulumi.preflight.deployed import from_spec
from alien_pulumi.preflight.findings import Code

DIGEST = "sha256:" + "ab" * 32
MOVED = "sha256:" + "cd" * 32


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


def frozen_worker(image: str) -> alien.StackSpec:
    return (alien.Stack("img", images=alien.Registry("ghcr.io/acme")).platforms("gcp", "azure")
            .add(alien.Container("web", image="web:1"), "live")
            .add(alien.Container("worker", image=image), "frozen").build())


def test_a_frozen_image_pinned_to_the_deployed_digest_is_no_change() -> None:
    report = preflight(frozen_worker(f"worker:1@{DIGEST}"), from_spec(frozen_worker(f"worker:1@{DIGEST}")),
                       alien.Platform.GCP)
    assert [f for f in report.findings if f.resource == "worker"] == []
    assert not report.blocked and report.needs_setup == []


def test_a_frozen_image_pinned_to_another_digest_is_a_frozen_change() -> None:
    deployed = from_spec(frozen_worker(f"worker:1@{DIGEST}"))
    report = preflight(frozen_worker(f"worker:1@{MOVED}"), deployed, alien.Platform.GCP)
    [change] = [f for f in report.findings if f.resource == "worker"]
    assert (change.code, change.field, change.old, change.new) == (
        Code.FROZEN_CHANGED, "image", f"worker:1@{DIGEST}", f"worker:1@{MOVED}")
    assert change.blocks and report.blocked and not report.awaits_setup, "a frozen change blocks the build"
    assert change.message.startswith(f"worker.image: 'worker:1@{DIGEST}' -> 'worker:1@{MOVED}': frozen resource "
                                     "changed (allow with --allow-frozen-changes")
    allowed = preflight(frozen_worker(f"worker:1@{MOVED}"), deployed, alien.Platform.GCP, allow_frozen_changes=True)
    [pending] = allowed.pending_setup
    assert not allowed.blocked and pending.field == "image" and "pending setup" in pending.message


def test_pinning_a_frozen_image_deployed_by_tag_is_a_frozen_change() -> None:
    """A record from before frozen pins holds the tag: the first pinned release shows the pin as pending setup."""
    report = preflight(frozen_worker(f"worker:1@{DIGEST}"), from_spec(frozen_worker("worker:1")), alien.Platform.GCP)
    [change] = [f for f in report.findings if f.resource == "worker"]
    assert (change.code, change.old, change.new) == (Code.FROZEN_CHANGED, "worker:1", f"worker:1@{DIGEST}")
