"""The typed error hierarchy: every error a user can cause is an ``AlienError``.

The CLIs catch ``AlienError`` and print its message; anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class AlienError(Exception):
    """Base of every error alien-pulumi raises on purpose."""


def first_problem(exc: ValidationError) -> str:
    """``field.path: message`` of a file's first invalid field (the one line a refusal quotes)."""
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


@dataclass(frozen=True)
class Problem:
    """One validation problem: where (a resource id or ``stack``), which field, what is wrong."""

    where: str
    field: str
    message: str
    code: str = "INVALID"

    def __str__(self) -> str:
        location = f"{self.where}.{self.field}" if self.field else self.where
        return f"{location}: {self.message}"


class StackValidationError(AlienError):
    """A stack has one or more problems; ``problems`` lists every one of them."""

    def __init__(self, stack: str, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"stack '{stack}' is invalid ({count} problem{'s' * (count != 1)}):\n{lines}")


class StackLoadError(AlienError):
    """A stack file could not be read or holds no single stack."""


class ContextError(AlienError):
    """The deployment context (prefix, account, project, ...) is incomplete or malformed: one problem per
    field, each named as the user gave it (flag, config key or bundle key). Exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str) -> None:
        self.problems = tuple(problems) if not isinstance(problems, str) else ()
        if isinstance(problems, str):
            super().__init__(problems)
            return
        lines = "\n".join(f"  - {p.field}: {p.message}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"invalid deployment context ({count} problem{'s' * (count != 1)}):\n{lines}")


class PermissionDataError(AlienError):
    """A permission-set data file is malformed (a packaging bug, caught by the tests)."""


class ReleaseIdError(AlienError):
    """A release id that cannot name the cloud sessions of its runs (exit code 2)."""

    exit_code = 2


class PreflightBlockedError(AlienError):
    """A release was stopped by blocking preflight findings (exit code 3)."""

    exit_code = 3


class LiveCheckError(AlienError):
    """The customer's cloud could not answer a live sufficiency check (unreachable, an unexpected refusal):
    nothing was concluded about the release (exit code 4)."""

    exit_code = 4


class AutomationError(AlienError):
    """A Pulumi run could not be done; the message is one line with the fix (exit code 4)."""

    exit_code = 4
    retryable = False


class PulumiNotFoundError(AutomationError):
    pass


class StackLockedError(AutomationError):
    """Another update holds the stack's lock; retrying later may succeed."""

    retryable = True


class ProgramError(AutomationError):
    pass


class CredentialsError(AutomationError):
    pass


class AccessRevokedError(CredentialsError):
    """The customer's cloud refused the management identity the way a revocation refuses it (``alien-deploy
    revoke``, or an access window that is over): the run is ``revoked``, never retried; the customer's
    ``alien-deploy restore`` lets the next run go."""
