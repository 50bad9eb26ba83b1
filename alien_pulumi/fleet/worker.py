"""The worker: run one deployment in this process. ``python -m alien_pulumi.fleet.worker`` reads a
RunInput (JSON) on stdin and writes its RunResult (JSON) as the last line on stdout; progress lines go to
stderr. Every error becomes a failed RunResult with a one-line message, never a traceback (a revoked one:
the customer's cloud refused the management identity; locked: another update holds the stack)."""

from __future__ import annotations

import sys
import time

from alien_pulumi.automation.engine import OnLine, engine_for
from alien_pulumi.automation.run import RunInput, RunResult, RunStatus
from alien_pulumi.errors import AccessRevokedError, AlienError


def execute(run: RunInput, on_line: OnLine | None = None) -> RunResult:
    start = time.perf_counter()
    try:
        return engine_for(run).execute(run, on_line)
    except AlienError as exc:
        status = RunStatus.REVOKED if isinstance(exc, AccessRevokedError) \
            else RunStatus.LOCKED if getattr(exc, "retryable", False) else RunStatus.FAILED
        return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind, status=status,
                         error=str(exc), seconds=time.perf_counter() - start)


def main() -> None:
    run = RunInput.model_validate_json(sys.stdin.read())
    result = execute(run, lambda line: print(line, file=sys.stderr, flush=True))
    sys.stdout.write(result.model_dump_json() + "\n")


if __name__ == "__main__":
    main()
