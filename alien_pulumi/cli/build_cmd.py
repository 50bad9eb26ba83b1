"""``alien-pulumi build``: the spec artifact the customer's side deploys (DESIGN.md §1a). The vendor's Python runs
here, on the vendor's machine; what leaves is data: the spec, every image pinned by digest, and its digest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alien_pulumi.automation.digests import ImageChange, Resolver, pin_images
from alien_pulumi.cli.common import JsonFlag, UsageError, err, out, print_json
from alien_pulumi.cli.stack_files import StackArg, load
from alien_pulumi.model.artifact import SUFFIX, SpecArtifact
from alien_pulumi.model.images import REGION, unpinned_images
from alien_pulumi.model.resources import ComputeSpec
from alien_pulumi.model.spec import StackSpec


def _regional(spec: StackSpec) -> list[str]:
    """Registry locations a declared platform pulls from that name ``{region}``: their references differ per
    region, so each region must be resolved."""
    registries = [spec.images, *(r.images for r in spec.resources if isinstance(r, ComputeSpec))]
    return sorted({loc for reg in registries if reg is not None for p in spec.platforms
                   if (loc := reg.location(p)) and REGION in loc})


def build_command(
    stack: StackArg,
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False, help=f"Where to write it (NAME{SUFFIX}).")],
    regions: Annotated[list[str] | None, typer.Option("--region", help="A region the artifact deploys to, where a "
                                                      "registry location names {region} (repeatable).")] = None,
    no_resolve: Annotated[bool, typer.Option("--no-resolve", help="Keep tags (offline review only: a setup refuses "
                                             "the artifact).")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Write the spec artifact for the customer's admin: the stack as canonical JSON, every compute image (frozen
    and live) resolved to its digest on each declared platform, and the spec's SHA-256 digest."""
    spec = load(stack)
    changes: list[ImageChange] = []
    if not no_resolve:
        regional = _regional(spec)
        if regional and not regions:
            raise UsageError(f"--region: registry location {regional[0]} names {REGION}: give each region the "
                             "artifact deploys to")
        # Without a {region} location the region changes no reference: one resolution per platform.
        targets = [(p, r) for p in spec.platforms for r in (regions if regional and regions else [""])]
        spec, changes = pin_images(spec, targets, Resolver())
    artifact = SpecArtifact.of(spec)
    artifact.write(out_file)
    unpinned = unpinned_images(spec)
    if json_out:
        print_json({"artifact": str(out_file), "stack": spec.name, "digest": artifact.digest,
                    "pinned": [c.to_json() for c in changes],
                    "unpinned": [{"resource": rid, "image": image} for rid, image in unpinned]})
        return
    for change in changes:
        out.print(f"image {change}")
    out.print(f"spec artifact {out_file} written: stack '{spec.name}', digest {artifact.digest}")
    if unpinned:
        err.print(f"[yellow]{len(unpinned)} image(s) not pinned by digest (--no-resolve):[/] for offline review "
                  "only; a setup refuses this artifact")
