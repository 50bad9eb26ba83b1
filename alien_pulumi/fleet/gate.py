"""The health gate of a rollout: after a wave, its deployments are heartbeaten, and the rollout halts if any
is unhealthy. Shared by the local runner and the Temporal workflow, so both halt with the same words."""

from __future__ import annotations

from collections.abc import Sequence

from alien_pulumi.automation.run import RunResult, RunStatus

SHOWN = 5


def health_problem(result: RunResult) -> str | None:
    """Why a heartbeat says the deployment is unhealthy (the run failed, or resources are missing or drifted),
    or None. A revoked deployment is none of the release's doing (its customer withdrew the vendor's access): it
    does not halt a rollout."""
    if result.status is RunStatus.REVOKED:
        return None
    if result.status is not RunStatus.SUCCEEDED:
        return result.error or f"the heartbeat {result.status.value}"
    bad = sorted(f"{rid} {h.get('state')}" for rid, h in result.health.items() if h.get("state") != "present")
    return ", ".join(bad) if bad else None


def gate_reason(wave: int, problems: Sequence[tuple[str, str]]) -> str | None:
    """The halt reason for ``problems`` ((deployment, problem) of the unhealthy ones), or None if there are none."""
    if not problems:
        return None
    shown = "; ".join(f"{name}: {problem}" for name, problem in problems[:SHOWN])
    more = f" and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return f"halted at the health gate after wave {wave}: {len(problems)} unhealthy ({shown}{more})"
