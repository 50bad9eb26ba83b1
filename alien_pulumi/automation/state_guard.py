"""The admin's runs check the stack's state before the engine acts on it (DESIGN.md §1a).

The management identity may write the state (a release must), so an admin's setup never trusts it: before the
engine starts any plugin, the exported state is compared with the checkpoint the admin's own last setup record keeps
(every setup-owned resource's URN, type, provider, id and inputs; every URN of the stack) and with the spec being
applied (its live URNs). Refused, naming the URN and field, with nothing run: a resource neither in the record nor
declared live by the spec, a setup-owned entry whose type, provider, id or inputs differ or that is gone, a provider
that is not the pinned version of the program's own or that names a plugin download URL. After the preview, every
step that deletes or replaces must act on a resource the record names with the id it recorded; and the state the
confirmed preview saw must still be the state when ``up`` starts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from alien_pulumi.automation.run import RunInput
from alien_pulumi.errors import AlienError
from alien_pulumi.model.record import StateEntry

ROOT_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
# The engine's operations that delete a cloud resource (a replacement deletes the old one).
DELETING = {"delete", "replace", "create-replacement", "delete-replaced", "discard", "discard-replaced",
            "read-replacement"}
# A secret's ciphertext changes whenever the state is re-encrypted: the entry is compared as "a secret".
SECRET_SIG, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


class StateRefusedError(AlienError):
    """The stack's state holds what the admin's own last setup did not put there: nothing was run (exit 3)."""

    exit_code = 3


def where(run: RunInput) -> str:
    """How refusals name the stack a run acts on."""
    return f"{run.deployment} (stack {run.context.prefix})"


def _resources(deployment: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return [r for r in (deployment or {}).get("resources") or [] if r.get("type") != ROOT_TYPE]


def _masked(value: Any) -> Any:
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG) == SECRET_VALUE:
            return {"secret": True}
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def checkpoint(deployment: Mapping[str, Any] | None, live: Iterable[str]) -> list[StateEntry]:
    """What setup owns in ``deployment`` (every entry not among the ``live`` URNs) in full, and the live URNs with
    their type and id (a release changes them): the admin's record keeps it."""
    targets = set(live)
    return [StateEntry(urn=r["urn"], type=r["type"], owned=r["urn"] not in targets, provider=r.get("provider", ""),
                       id=r.get("id", ""), inputs=_masked(r.get("inputs") or {}) if r["urn"] not in targets else {})
            for r in _resources(deployment)]


def state_digest(deployment: Mapping[str, Any] | None) -> str:
    """SHA-256 of the state's resources: what a confirmed preview saw, compared again before ``up``."""
    text = json.dumps(_masked(_resources(deployment)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def pinned_plugin(provider_type: str) -> str | None:
    """The provider plugin version this installation pins for ``pulumi:providers:<package>`` (its SDK's)."""
    try:
        return version(f"pulumi-{provider_type.removeprefix(PROVIDER_PREFIX)}")
    except PackageNotFoundError:
        return None


def _provider_problem(res: Mapping[str, Any]) -> str | None:
    inputs = res.get("inputs") or {}
    url = inputs.get("pluginDownloadURL") or inputs.get("pluginDownloadUrl")
    if url:
        return f"provider {res['urn']} names a plugin download URL ({url}): no run ever fetches a plugin"
    pinned = pinned_plugin(res["type"])
    if pinned is None or inputs.get("version") != pinned:
        return (f"provider {res['urn']} field version: {inputs.get('version')!r}, not the pinned "
                f"{res['type'].removeprefix(PROVIDER_PREFIX)} plugin {pinned!r}")
    return None


def _differs(entry: StateEntry, res: Mapping[str, Any]) -> str | None:
    for field in ("type", "provider", "id"):
        if getattr(entry, field) != res.get(field, ""):
            return f"field {field}: {res.get(field, '')!r}, your setup recorded {getattr(entry, field)!r}"
    found = _masked(res.get("inputs") or {})
    if found != entry.inputs:
        keys = sorted(k for k in set(found) | set(entry.inputs) if found.get(k) != entry.inputs.get(k))
        return f"field inputs.{keys[0]}: {found.get(keys[0])!r}, your setup recorded {entry.inputs.get(keys[0])!r}"
    return None


def verify_state(deployment: Mapping[str, Any] | None, recorded: list[StateEntry] | None, live: Iterable[str],
                 where: str) -> None:
    """Refuse a state the admin's last setup record (``recorded``; None: no setup yet) and the spec's ``live``
    URNs do not account for; every problem is listed, each naming the URN and field."""
    targets = set(live)
    entries = {e.urn: e for e in recorded or []}
    providers = {e.urn for e in entries.values() if e.type.startswith(PROVIDER_PREFIX)}
    problems: list[str] = []
    seen = set()
    for res in _resources(deployment):
        urn = res["urn"]
        seen.add(urn)
        if res["type"].startswith(PROVIDER_PREFIX):
            problem = _provider_problem(res)
            if problem:
                problems.append(problem)
                continue
        entry = entries.get(urn)
        if entry is not None and entry.owned:
            found = _differs(entry, res)
            if found:
                problems.append(f"{urn}: {found}")
        elif entry is None and urn not in targets:
            problems.append(f"{urn}: not in your last setup record and not declared live by the spec")
        elif entry is not None and entry.type != res["type"]:
            problems.append(f"{urn}: field type: {res['type']!r}, your setup recorded {entry.type!r}")
        elif res.get("custom") and res.get("provider", "").rsplit("::", 1)[0] not in providers and recorded:
            problems.append(f"{urn}: field provider: {res.get('provider')!r} is not a provider your setup created")
    problems += [f"{e.urn}: set up by you, missing from the state" for e in entries.values()
                 if e.owned and e.urn not in seen]
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise StateRefusedError(f"the state of {where} was changed outside your setup; nothing was run "
                                f"({len(problems)} problem{'s' * (len(problems) != 1)}):\n{listed}")


def verify_steps(operations: Mapping[str, str], recorded: list[StateEntry] | None,
                 deployment: Mapping[str, Any] | None, where: str) -> None:
    """After the admin's preview: a step that deletes a cloud resource acts only on one the last setup record names,
    with the id it recorded (so a swapped id never aims the admin's credentials at another resource)."""
    entries = {e.urn: e for e in recorded or []}
    ids = {r["urn"]: r.get("id", "") for r in _resources(deployment)}
    bad = [f"{op} {urn}" for urn, op in sorted(operations.items()) if op in DELETING
           and (urn not in entries or entries[urn].id != ids.get(urn, entries[urn].id))]
    if bad:
        raise StateRefusedError(f"the preview of {where} would delete what your last setup record does not name "
                                f"with its id: {', '.join(bad)}; nothing was applied")
