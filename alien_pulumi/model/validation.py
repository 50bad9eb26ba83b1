"""Turn raw stack data (from the builder or a JSON file) into a ``StackSpec``, reporting every problem.

Field checks come from the pydantic models; cross-references (links, triggers, profiles, permission set
ids) are checked here. Every pydantic error is translated into a ``Problem`` naming the resource and the
field, so no pydantic traceback reaches a user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from alien_pulumi.errors import Problem, StackValidationError
from alien_pulumi.model.images import ImageError, RegistrySpec, pull, registry_of
from alien_pulumi.model.naming import name_clashes
from alien_pulumi.model.resources import SPEC_BY_TYPE, ComputeSpec, ResourceSpec
from alien_pulumi.model.spec import SCHEMA_VERSION, PermissionsSpec, StackSpec
from alien_pulumi.model.types import (
    COMPUTE_TYPES,
    DATA_SET_PREFIX,
    DATA_TYPES,
    ID_PATTERN,
    LINK_ACCESS,
    SET_NAMES,
    Lifecycle,
    Platform,
    ResourceType,
    split_link,
)

_BASE_FIELDS = ("id", "type", "lifecycle")
_RANGE = {
    "greater_than_equal": (">=", "ge"),
    "less_than_equal": ("<=", "le"),
    "greater_than": (">", "gt"),
    "less_than": ("<", "lt"),
}


def parse_spec(data: Any) -> StackSpec:
    """Validate raw stack data; raise one ``StackValidationError`` listing every problem."""
    if not isinstance(data, Mapping):
        raise StackValidationError("?", [Problem("stack", "", "a stack spec is a JSON object", "NOT_AN_OBJECT")])
    problems: list[Problem] = []
    name = data.get("name")
    stack_name = name if isinstance(name, str) else "?"
    _check_stack_fields(data, problems)
    resources, refs = _parse_resources(data.get("resources"), problems)
    permissions = _parse_permissions(data.get("permissions", {}), problems)
    images = _parse_images(data.get("images"), problems)
    _check_references(refs, problems)
    if permissions is not None:
        _check_permissions(refs, permissions, problems)
    raw_platforms = data.get("platforms")
    listed = list(raw_platforms) if isinstance(raw_platforms, (list, tuple)) else []
    known = [Platform(p) for p in dict.fromkeys(listed) if p in {q.value for q in Platform}]
    problems.extend(name_problems(refs, permissions, known))
    # Pull rules of every compute that parsed, on every known declared platform (also when others have problems).
    if "images" not in data or images is not None:
        problems.extend(image_problems(resources, known, images))
    if problems:
        raise StackValidationError(stack_name, problems)
    return StackSpec(
        schema_version=SCHEMA_VERSION,
        name=stack_name,
        platforms=tuple(Platform(p) for p in data["platforms"]),
        resources=tuple(resources),  # type: ignore[arg-type]
        permissions=permissions or PermissionsSpec(),
        images=images,
    )


def _parse_images(raw: Any, problems: list[Problem]) -> RegistrySpec | None:
    if raw is None:
        return None
    try:
        return RegistrySpec.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(Problem("stack", f"images.{_loc(error['loc'])}".rstrip("."), _message(error),
                                    _code(error)))
        return None


# Physical names depend on the deployment's prefix, which a stack does not know: names are derived with these. Two ids
# whose names are one after a cloud's rules are one with any prefix that neither truncates nor pads them (``NameRule``:
# both get a hash of their own then); the 1-character prefix is the least likely to truncate, the 8-character one
# lengthens the shortest names past every rule's minimum length.
SAMPLE_PREFIXES = ("x", "acme-app")


def name_problems(refs: Iterable[_Refs], permissions: PermissionsSpec | None,
                  platforms: Iterable[Platform]) -> list[Problem]:
    """Resources (and runtime profiles) whose physical names on a declared platform are one after that cloud's naming
    rules (``naming.name_clashes``): one problem per pair and platform, naming both and the name they share."""
    declared: dict[str, ResourceType] = {}
    for ref in refs:  # resources with field problems too; a duplicate id is reported already
        if ref.kind is not None and ID_PATTERN.match(ref.id):
            declared.setdefault(ref.id, ref.kind)
    profiles = [p for p in (permissions.profiles if permissions else {}) if ID_PATTERN.match(p)]
    problems: list[Problem] = []
    for platform in platforms:
        reported: set[tuple[bool, str, str]] = set()
        for prefix in SAMPLE_PREFIXES:
            for clash in name_clashes(platform, prefix, declared.items(), profiles):
                if (clash.profiles, clash.first, clash.second) in reported:
                    continue
                reported.add((clash.profiles, clash.first, clash.second))
                where, field, what = (f"permissions.profiles.{clash.second}", "", f"runtime {clash.what}") \
                    if clash.profiles else (clash.second, "id", clash.what)
                problems.append(Problem(where, field, f"on {platform.value}, {clash.first!r} and {clash.second!r} "
                                        f"both become the {what} {clash.name!r} (prefix {prefix!r}) after the "
                                        "cloud's naming rules: rename one", "NAME_COLLISION"))
    return problems


def image_problems(resources: Iterable[ResourceSpec], platforms: Iterable[Platform],
                   images: RegistrySpec | None) -> list[Problem]:
    """Every compute image a declared platform cannot pull (DESIGN.md §4b), naming the platform and the rule."""
    problems: list[Problem] = []
    platforms = list(platforms)
    for res in resources:
        if not isinstance(res, ComputeSpec):
            continue
        image = res.image
        registry = registry_of(images, res.images)
        for platform in platforms:
            try:
                pull(platform, res.kind, image, registry)
            except ImageError as exc:
                problems.append(Problem(res.id, "image", f"{platform.value}: {exc}", "IMAGE_NOT_PULLABLE"))
    return problems


def _check_stack_fields(data: Mapping[str, Any], problems: list[Problem]) -> None:
    extra = sorted(set(data) - {"schema_version", "name", "platforms", "resources", "permissions",
                                      "images"})
    for key in extra:
        problems.append(Problem("stack", key, "unknown field", "UNKNOWN_FIELD"))
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        problems.append(
            Problem("stack", "schema_version", f"unsupported schema version {version!r} (this is {SCHEMA_VERSION})")
        )
    name = data.get("name")
    if not isinstance(name, str) or not ID_PATTERN.match(name):
        problems.append(Problem("stack", "name", f"{name!r} must match {ID_PATTERN.pattern}", "INVALID_NAME"))
    platforms = data.get("platforms")
    if not isinstance(platforms, (list, tuple)) or not platforms:
        problems.append(Problem("stack", "platforms", "declare at least one platform: aws, gcp, azure", "NO_PLATFORM"))
        return
    valid = {p.value for p in Platform}
    for platform in platforms:
        if platform not in valid:
            problems.append(
                Problem("stack", "platforms", f"unknown platform {platform!r} (expected aws, gcp or azure)",
                        "UNKNOWN_PLATFORM")
            )
    for platform in sorted({p for p in platforms if isinstance(p, str) and list(platforms).count(p) > 1}):
        problems.append(Problem("stack", "platforms", f"platform {platform!r} is listed twice", "DUPLICATE_PLATFORM"))


@dataclass
class _Refs:
    """What cross-reference checks need of a resource, read from raw data so that a resource with field
    problems is still checked."""

    id: str
    kind: ResourceType | None
    references: list[tuple[str, str]]
    profile: str | None
    link_access: dict[str, str | None]  # linked id -> the access its link names (None: all the type has)


def _raw_refs(item: Mapping[str, Any], where: str) -> _Refs:
    kind = next((t for t in ResourceType if t.value == item.get("type")), None)
    links = item.get("links") or []
    triggers = item.get("triggers") or []
    access = dict(split_link(x) for x in links if isinstance(x, str)) if isinstance(links, (list, tuple)) else {}
    refs = [("links", rid) for rid in access]
    if isinstance(triggers, (list, tuple)):
        queues = [t.get("queue") for t in triggers if isinstance(t, Mapping)]
        refs += [("triggers", q) for q in queues if isinstance(q, str)]
    profile = item.get("permissions")
    return _Refs(where, kind, refs, profile if isinstance(profile, str) else None, access)


def _parse_resources(raw: Any, problems: list[Problem]) -> tuple[list[ResourceSpec], list[_Refs]]:
    if not isinstance(raw, (list, tuple)):
        problems.append(Problem("stack", "resources", "must be a list of resources", "INVALID"))
        return [], []
    parsed: list[ResourceSpec] = []
    refs: list[_Refs] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            problems.append(Problem(f"resources[{index}]", "", "a resource is an object", "INVALID"))
            continue
        rid = item.get("id")
        where = rid if isinstance(rid, str) and rid else f"resources[{index}]"
        refs.append(_raw_refs(item, where))
        before = len(problems)
        if not isinstance(rid, str) or not ID_PATTERN.match(rid):
            problems.append(Problem(where, "id", f"{rid!r} must match {ID_PATTERN.pattern}", "INVALID_ID"))
        elif rid in seen:
            problems.append(Problem(where, "id", f"duplicate id {rid!r}: ids are unique in a stack", "DUPLICATE_ID"))
        if isinstance(rid, str):
            seen.add(rid)
        type_name = item.get("type")
        if type_name not in {t.value for t in ResourceType}:
            expected = ", ".join(t.value for t in ResourceType)
            problems.append(Problem(where, "type", f"unknown type {type_name!r} (expected one of {expected})",
                                    "UNKNOWN_TYPE"))
        lifecycle = item.get("lifecycle")
        if lifecycle not in {lc.value for lc in Lifecycle}:
            problems.append(Problem(where, "lifecycle", f"unknown lifecycle {lifecycle!r} (expected frozen or live)",
                                    "UNKNOWN_LIFECYCLE"))
        if len(problems) > before:
            # Report field problems too, so one run lists everything.
            if type_name in {t.value for t in ResourceType}:
                _field_problems(SPEC_BY_TYPE[ResourceType(type_name)], item, where, problems, skip=_BASE_FIELDS)
            continue
        spec = _field_problems(SPEC_BY_TYPE[ResourceType(type_name)], item, where, problems, skip=())
        if spec is not None:
            parsed.append(spec)  # type: ignore[arg-type]
    return parsed, refs


def _field_problems(
    model: type[BaseModel], item: Mapping[str, Any], where: str, problems: list[Problem], skip: Iterable[str]
) -> BaseModel | None:
    try:
        return model.model_validate(dict(item))
    except ValidationError as exc:
        for error in exc.errors():
            field = _loc(error["loc"])
            if field.split(".")[0].split("[")[0] in skip:
                continue
            problems.append(Problem(where, field, _message(error), _code(error)))
        return None


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-after") or part.startswith("function-before"):
            continue
        else:
            out += f".{part}" if out else part
    return out


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is required"
    bound = _RANGE.get(kind)
    ctx = error.get("ctx") or {}
    if bound is not None:
        return f"must be {bound[0]} {ctx.get(bound[1])} (got {error.get('input')!r})"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind != "value_error" and not isinstance(value, (dict, list)):
        message += f" (got {value!r})"
    return message


def _code(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return "OUT_OF_RANGE"
    if kind == "extra_forbidden":
        return "UNKNOWN_FIELD"
    if kind == "missing":
        return "MISSING_FIELD"
    return "INVALID_VALUE"


def _parse_permissions(raw: Any, problems: list[Problem]) -> PermissionsSpec | None:
    try:
        return PermissionsSpec.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(Problem("permissions", _loc(error["loc"]), _message(error), _code(error)))
        return None


def _check_references(resources: list[_Refs], problems: list[Problem]) -> None:
    kinds = {r.id: r.kind for r in resources}
    for res in resources:
        for field, ref in res.references:
            if ref not in kinds:
                problems.append(Problem(res.id, field, f"names {ref!r}, which is not a resource of this stack",
                                        "UNKNOWN_REFERENCE"))
                continue
            kind = kinds[ref]
            if kind is None:
                continue
            if field == "links" and kind not in DATA_TYPES:
                problems.append(Problem(res.id, field, f"links to {ref!r}, a {kind.value}: links name "
                                        "storage, queue, kv or vault resources", "INVALID_LINK"))
            elif field == "links" and res.link_access.get(ref) not in (None, *LINK_ACCESS[kind]):
                problems.append(Problem(res.id, field, f"links to {ref!r} for {res.link_access[ref]}, which a "
                                        f"{kind.value} does not grant (it grants: {', '.join(LINK_ACCESS[kind])})",
                                        "INVALID_LINK"))
            elif field == "triggers" and kind is not ResourceType.QUEUE:
                problems.append(Problem(res.id, field, f"queue trigger names {ref!r}, a {kind.value}, "
                                        "not a queue", "INVALID_TRIGGER"))


def _check_permissions(resources: list[_Refs], permissions: PermissionsSpec, problems: list[Problem]) -> None:
    by_id = {r.id: r.kind for r in resources}
    profiles = permissions.profiles
    for res in resources:
        if res.kind in COMPUTE_TYPES and res.profile is not None and res.profile not in profiles:
            defined = ", ".join(sorted(profiles)) or "none"
            problems.append(Problem(res.id, "permissions", f"profile {res.profile!r} is not defined in "
                                    f"permissions.profiles (defined: {defined})", "UNKNOWN_PROFILE"))
    for profile, scopes in profiles.items():
        where = f"permissions.profiles.{profile}"
        if not ID_PATTERN.match(profile):
            problems.append(Problem(where, "", f"profile name must match {ID_PATTERN.pattern}", "INVALID_NAME"))
        for scope, set_ids in scopes.items():
            for set_id in set_ids:
                kind, set_name = _check_set_id(set_id, by_id, scope, f"{where}", problems)
                if kind is not None and not set_name.startswith(DATA_SET_PREFIX):
                    problems.append(Problem(where, scope, f"{set_id!r} is not a data set: profiles grant the "
                                            "application data access only (data-read, data-write)", "NOT_DATA_SET"))
    for scope, set_ids in permissions.management.extend.items():
        where = "permissions.management.extend"
        for set_id in set_ids:
            kind, set_name = _check_set_id(set_id, by_id, scope, where, problems)
            if kind is not None and set_name.startswith(DATA_SET_PREFIX):
                problems.append(Problem(where, scope, f"{set_id!r} grants data access: management never includes "
                                        "data access", "DATA_IN_MANAGEMENT"))


def _check_set_id(
    set_id: str, by_id: Mapping[str, ResourceType | None], scope: str, where: str, problems: list[Problem]
) -> tuple[ResourceType | None, str]:
    """Check ``<type>/<set>`` and its scope; return the type when the set id is known."""
    if scope != "*" and scope not in by_id:
        problems.append(Problem(where, scope, f"scope {scope!r} is neither '*' nor a resource of this stack",
                                "UNKNOWN_SCOPE"))
    type_name, _, set_name = set_id.partition("/")
    kind = next((t for t in ResourceType if t.value == type_name), None)
    if kind is None or set_name not in SET_NAMES[kind]:
        problems.append(Problem(where, scope, f"unknown permission set {set_id!r} (sets are <type>/<set>, e.g. "
                                "storage/data-read)", "UNKNOWN_SET"))
        return None, set_name
    target = by_id.get(scope)
    if target is not None and target is not kind:
        problems.append(Problem(where, scope, f"{set_id!r} does not apply to {scope!r}, a {target.value}",
                                "SET_TYPE_MISMATCH"))
    return kind, set_name
