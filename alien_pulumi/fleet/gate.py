"""The health gate of a rollout: after a wave, its deployments are heartbeaten, and the rollout halts if any
is unhealthy. Shared by the local runner and the Temporal workflow, so both halt with the same words.

The gate fails closed: only a positive answer lets a deployment through (its heartbeat succeeded, without an error,
and found every resource present). Everything else halts the rollout with the reason: a heartbeat that failed, found
the stack locked by another run, timed out, gave no answer, or could not run; resources missing, drifted or in a
state not known; a deployment not set up any more (its release record is gone) or no longer registered. A revoked
deployment alone is let through: its customer withdrew the vendor's access, which is none of the release's doing
(it is counted apart, as its runs are)."""

from __future__ import annotations

from collections.abc import Sequence

from alien_pulumi.automation.run import RunResult, RunStatus
from alien_pulumi.errors import AlienError
from alien_pulumi.fleet.registry import Registry, RegistryError

SHOWN = 5
PRESENT = "present"
NO_ANSWER = "no heartbeat: the heartbeat gave no result"
NOT_SET_UP = "not set up: it has no release record; import its admin's setup record (alien-pulumi deployments add)"
REMOVED = "removed: it is no longer in the registry"


def health_problem(result: RunResult | None) -> str | None:
    """Why a heartbeat is not a positive answer (its outcome first: ``failed: ...``, ``locked: ...``, or the
    resources that are not present), or None if it is one. None for a revoked deployment too (see the module)."""
    if result is None:
        return NO_ANSWER
    if result.status is RunStatus.REVOKED:
        return None
    if result.status is not RunStatus.SUCCEEDED:
        return f"{result.status.value}: {result.error or 'the heartbeat gave no reason'}"
    if result.error:
        return f"succeeded with an error: {result.error}"
    bad = sorted(f"{rid} {h.get('state')}" for rid, h in result.health.items() if h.get("state") != PRESENT)
    return ", ".join(bad) if bad else None


def absence_problem(registry: Registry, name: str) -> str | None:
    """Why ``name`` has nothing to heartbeat any more (removed from the registry, or not set up: its release record
    is gone since it was planned), or None when it has a release record."""
    try:
        deployment = registry.get_deployment(name)
    except RegistryError:
        return REMOVED
    return NOT_SET_UP if deployment.record is None else None


def gate_reason(wave: int, problems: Sequence[tuple[str, str]]) -> str | None:
    """The halt reason for ``problems`` ((deployment, problem) of the unhealthy ones), or None if there are none."""
    if not problems:
        return None
    shown = "; ".join(f"{name}: {problem}" for name, problem in problems[:SHOWN])
    more = f" and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return f"halted at the health gate after wave {wave}: {len(problems)} unhealthy ({shown}{more})"


def gate_failure(wave: int, names: Sequence[str], exc: Exception) -> str:
    """The halt reason of a gate that could not heartbeat ``names`` at all (its error)."""
    shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
    error = " ".join(str(exc).split())
    if not isinstance(exc, AlienError):  # not an error of ours: its type says more than its message
        error = f"{type(exc).__name__}: {error}" if error else type(exc).__name__
    return f"halted at the health gate after wave {wave}: the heartbeats of {shown} could not run ({error})"
