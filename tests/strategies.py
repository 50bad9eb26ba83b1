"""Hypothesis strategies: random valid stacks (as raw data, so tests can also mutate them)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from alien_pulumi.model.types import COMPUTE_TYPES, DATA_TYPES, SET_NAMES, ResourceType

ids = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
images = st.from_regex(r"111122223333\.dkr\.ecr\.us-east-1\.amazonaws\.com/"
    r"[a-z]{2,8}/[a-z]{2,8}:[0-9]\.[0-9]", fullmatch=True)
env = st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True), st.text(max_size=8), max_size=3)

FIELDS: dict[ResourceType, dict[str, st.SearchStrategy[Any]]] = {
    ResourceType.STORAGE: {"versioning": st.booleans(), "retention_days": st.none() | st.integers(1, 3650)},
    ResourceType.QUEUE: {
        "visibility_timeout_s": st.integers(10, 600), "message_retention_s": st.integers(600, 1_209_600),
    },
    ResourceType.KV: {},
    ResourceType.VAULT: {},
    ResourceType.NETWORK: {
        "cidr": st.sampled_from(["10.0.0.0/16", "10.8.0.0/20", "172.16.0.0/24"]),
        "zones": st.integers(1, 3),
        "nat": st.booleans(),
    },
    ResourceType.FUNCTION: {
        "image": images, "memory_mb": st.integers(128, 8192), "timeout_s": st.integers(1, 900), "environment": env,
        "public": st.booleans(),
    },
    ResourceType.CONTAINER: {
        "image": images, "cpu": st.sampled_from([0.25, 0.5, 1.0, 2.0]), "memory_mb": st.integers(512, 8192),
        "port": st.integers(1, 65535), "min_replicas": st.integers(1, 3), "max_replicas": st.integers(3, 10),
        "environment": env, "public": st.booleans(), "health_check_path": st.sampled_from(["/", "/healthz"]),
    },
}


@st.composite
def stack_data(draw: st.DrawFn, max_resources: int = 8) -> dict[str, Any]:
    """Raw data of a random valid stack."""
    # Ids equal once hyphens go would collide on Azure (storage account names): a valid stack never has them.
    rids = draw(st.lists(ids, min_size=1, max_size=max_resources, unique_by=lambda rid: rid.replace("-", "")))
    kinds = {rid: draw(st.sampled_from(list(ResourceType))) for rid in rids}
    data_ids = [r for r in rids if kinds[r] in DATA_TYPES]
    queues = [r for r in rids if kinds[r] is ResourceType.QUEUE]
    profile_names = draw(st.lists(st.sampled_from(["app", "worker", "ingest"]), max_size=2, unique=True))
    resources = []
    for rid in rids:
        kind = kinds[rid]
        fields = {name: draw(strategy) for name, strategy in FIELDS[kind].items()}
        if kind in COMPUTE_TYPES:
            fields["links"] = draw(st.lists(st.sampled_from(data_ids), unique=True)) if data_ids else []
            fields["permissions"] = draw(st.none() | st.sampled_from(profile_names)) if profile_names else None
        if kind is ResourceType.FUNCTION and queues:
            fields["triggers"] = draw(st.lists(st.sampled_from(queues).map(lambda q: {"queue": q}), max_size=1))
        lifecycle = draw(st.sampled_from(["frozen", "live"]))
        resources.append({"id": rid, "type": kind.value, "lifecycle": lifecycle, **fields})
    profiles: dict[str, dict[str, list[str]]] = {}
    for name in profile_names:
        scopes: dict[str, list[str]] = {}
        for rid in draw(st.lists(st.sampled_from(data_ids), unique=True, max_size=3)) if data_ids else []:
            sets = sorted(s for s in SET_NAMES[kinds[rid]] if s.startswith("data-"))
            scopes[rid] = [f"{kinds[rid].value}/{s}" for s in draw(st.lists(st.sampled_from(sets), min_size=1,
                                                                                unique=True))]
        if draw(st.booleans()):
            scopes["*"] = ["queue/data-write"]
        profiles[name] = scopes
    extend: dict[str, list[str]] = {}
    if draw(st.booleans()):
        extend["*"] = [draw(st.sampled_from(["function/provision", "container/management", "storage/heartbeat"]))]
    if draw(st.booleans()):
        rid = draw(st.sampled_from(rids))
        extend[rid] = [f"{kinds[rid].value}/provision"]
    platforms = draw(st.lists(st.sampled_from(["aws", "gcp", "azure"]), min_size=1, max_size=3, unique=True))
    return {
        "name": draw(ids),
        "platforms": platforms,
        "resources": resources,
        "permissions": {"profiles": profiles, "management": {"extend": extend}},
    }


def change_field(data: dict[str, Any], draw: st.DrawFn, lifecycle: str) -> tuple[dict[str, Any], str] | None:
    """Change one field of one resource of the given lifecycle to another valid value."""
    candidates = [r for r in data["resources"] if r["lifecycle"] == lifecycle]
    candidates = [r for r in candidates if FIELDS[ResourceType(r["type"])]]
    if not candidates:
        return None
    res = draw(st.sampled_from(candidates))
    fields = FIELDS[ResourceType(res["type"])]
    name = draw(st.sampled_from(sorted(fields)))
    value = draw(fields[name].filter(lambda v: v != res.get(name)))
    too_high = name == "min_replicas" and value > res["max_replicas"]
    if too_high or (name == "max_replicas" and value < res["min_replicas"]):
        return None
    res[name] = value
    return data, f"{res['id']}.{name}"
