"""Azure permission-set data files: shape, real operations, and the three-layer rules (DESIGN.md §2, §4).

The files are read with a tiny local loader (yaml.safe_load over the folder); the package loader can
replace it later. Actions and dataActions are checked against the built-in roles catalog in
tests/data/catalogs/ (role patterns may hold wildcards; Azure matches them case-insensitively).

What the components (alien_pulumi/components/azure) must do for these sets to be sufficient, and must not do:
- storage/kv accounts: allow_shared_key_access=False, no public blob access; never list keys or SAS;
- queue: disable_local_auth=True, no authorization rules; the queue trigger's scale rule uses the runtime identity;
- vault: RBAC mode, no access policies, no secrets;
- compute: no secrets on apps or jobs; every function has its job `{name}` (schedule or manual trigger); the
  environment logs through a diagnostic setting (destination azure-monitor), never a workspace shared key;
- never invoke a list*/get_shared_keys function; the Foundation, Identities and Grants are never management targets.
"""

from __future__ import annotations

import functools
import re
import string

import pytest
import yaml

from tests.permissions.sets_data import (
    COMPUTE_TYPES,
    DATA_TYPES,
    NON_DATA_SETS,
    SCOPES,
    STATE,
    STATE_PLACEHOLDERS,
    TYPES,
    load_catalog,
    sets_dir,
)

SETS_DIR = sets_dir("azure")
PLACEHOLDERS = {
    "prefix", "stack", "id", "name", "subscription", "resource_group",
    "container", "queue", "table", "environment", "runtime_identity", "management_identity", *STATE_PLACEHOLDERS,
}
# Placeholders that name one resource (a `scope: resource` grant must use one of them).
RESOURCE_KEYS = {"name", "container", "queue", "table", "runtime_identity", "management_identity"}
GRANT_KEYS = {"description", "scope", "actions", "data_actions", "resources", "condition", "when", "exposes",
              "setup_only"}
SAMPLE = {
    "prefix": "acme-app", "stack": "my-app", "id": "data", "name": "acmeappdata",
    "subscription": "00000000-0000-0000-0000-000000000000", "resource_group": "acme-app-rg",
    "container": "data", "queue": "jobs", "table": "cache", "environment": "acme-app-env",
    "runtime_identity": "acme-app-rt-app", "management_identity": "acme-app-management",
    "state_resource_group": "acme-app-state-rg", "state_account": "acmeappst0123abcd",
    "state_container": "pulumi-state", "state_vault": "acme-app-kv0123abcd", "state_key": "pulumi-state",
    "setup_container": "alien-setup",
}
STATE_RG_SCOPE = "/subscriptions/{subscription}/resourceGroups/{state_resource_group}"
RG_SCOPE = "/subscriptions/{subscription}/resourceGroups/{resource_group}"
SUBSCRIPTION_SCOPE = "/subscriptions/{subscription}"

# A real resource-provider operation: Microsoft.<RP>/<type>[/<subtype>...]/<read|write|delete|action>.
OPERATION = re.compile(r"^Microsoft\.[A-Za-z][A-Za-z0-9]*(/[A-Za-z][A-Za-z0-9]*)+/(read|write|delete|action)$")
# Operations that hand out keys, SAS tokens, connection strings or secret values (control-plane routes to data).
SECRET_OPERATIONS = {
    "listkeys", "regeneratekey", "regeneratekeys", "listaccountsas", "listservicesas",
    "listconnectionstrings", "listsecrets",
}
# Keys that only the admin's provisioning run may fetch (see the compute files' header comments).
PROVISION_ONLY_SECRET_OPERATIONS = {"sharedkeys"}
# Operations whose resource type no built-in role spells out (roles grant them only through `Microsoft.ServiceBus/*`
# or `Microsoft.Storage/storageAccounts/*`): each one checked by hand against Microsoft Learn's "Azure resource
# provider operations" (Microsoft.ServiceBus, Microsoft.Storage sections). A new one must be checked and added here.
REVIEWED_OPERATIONS = {
    "Microsoft.ServiceBus/namespaces/read", "Microsoft.ServiceBus/namespaces/write",
    "Microsoft.ServiceBus/namespaces/delete", "Microsoft.ServiceBus/namespaces/queues/read",
    "Microsoft.ServiceBus/namespaces/queues/write", "Microsoft.ServiceBus/namespaces/queues/delete",
    "Microsoft.ServiceBus/namespaces/messages/send/action", "Microsoft.ServiceBus/namespaces/messages/receive/action",
    "Microsoft.Storage/storageAccounts/managementPolicies/read",
    "Microsoft.Storage/storageAccounts/managementPolicies/write",
    "Microsoft.Storage/storageAccounts/managementPolicies/delete",
    # Named in ARM's AuthorizationFailed for a resource-group-scoped deployer (microsoft/azure-container-apps#215);
    # roles grant them through Microsoft.App/*.
    "Microsoft.App/locations/containerappOperationStatuses/read",
    "Microsoft.App/locations/containerappsjobOperationStatuses/read",
}
# Extension resource types: they live below another provider's resource (`<resource id>/providers/
# Microsoft.Insights/diagnosticSettings/<name>`), so their actions are granted on that resource's scope.
EXTENSION_TYPES = ("microsoft.insights/diagnosticsettings/",)
# Data-plane operations that change contents (for data-read must hold none).
WRITE_WORDS = ("write", "delete", "add", "update", "setsecret", "send", "move")


def _load() -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted(SETS_DIR.glob("*.yaml"))}


FILES = _load()


def _expand(doc: dict, set_name: str, seen: tuple[str, ...] = ()) -> list[dict]:
    """Grants of a set with its includes expanded (transitively); a cycle fails the test."""
    assert set_name not in seen, f"include cycle: {[*seen, set_name]}"
    entry = doc["sets"][set_name]
    grants: list[dict] = []
    for inc in entry.get("includes", []):
        grants += _expand(doc, inc, (*seen, set_name))
    return grants + list(entry["grants"])


def _actions(grants: list[dict]) -> set[str]:
    return {a for g in grants for a in g.get("actions", [])}


def _data_actions(grants: list[dict]) -> set[str]:
    return {a for g in grants for a in g.get("data_actions", [])}


def _all_sets():
    for kind, doc in sorted(FILES.items()):
        for set_name in doc["sets"]:
            yield kind, set_name


def _segments(action: str) -> list[str]:
    return action.lower().split("/")


@functools.cache
def _pattern(p: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in p.strip().split("*")) + "$", re.IGNORECASE)


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict]:
    return load_catalog("azure-built-in-roles.json.gz")


@pytest.fixture(scope="module")
def patterns(catalog) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {"actions": set(), "dataActions": set()}
    for role in catalog.values():
        for perm in role["permissions"]:
            for key in out:
                out[key].update(perm.get(key) or [])
    return {k: sorted(v) for k, v in out.items()}


def _matching(action: str, pats: list[str]) -> list[str]:
    return [p for p in pats if _pattern(p).match(action)]


def test_all_files_present():
    assert set(FILES) == {*TYPES, "identity", STATE}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_file_shape(kind):
    doc = FILES[kind]
    assert doc["type"] == kind and doc["cloud"] == "azure"
    text = (SETS_DIR / f"{kind}.yaml").read_text()
    assert text.startswith("#"), "each file starts with a comment block saying what it covers"
    expected = {"provision"} if kind == "identity" else {"heartbeat", "management", "provision"}
    if kind == STATE:  # the state store (DESIGN.md §4a): what the management identity uses, what the admin creates
        expected = {STATE, "provision"}
    if kind in DATA_TYPES:
        expected |= {"data-read", "data-write"}
    if kind in COMPUTE_TYPES:
        expected |= {"runtime"}
    assert set(doc["sets"]) == expected
    for set_name, entry in doc["sets"].items():
        assert isinstance(entry["description"], str) and entry["description"].strip()
        assert set(entry) <= {"description", "includes", "grants", "updates", "effects"}
        if "updates" in entry:
            assert set_name == "management", "only a management set says which live changes it can apply"
        assert all(inc in doc["sets"] and inc != set_name for inc in entry.get("includes", []))
        assert isinstance(entry["grants"], list)
        for g in entry["grants"]:
            assert set(g) <= GRANT_KEYS, set(g) - GRANT_KEYS
            assert isinstance(g["description"], str) and g["description"].strip()
            assert "\n" not in g["description"]
            assert g["scope"] in SCOPES
            assert g.get("actions") or g.get("data_actions"), "a grant grants something"
            for key in ("actions", "data_actions"):
                vals = g.get(key, [])
                assert isinstance(vals, list) and all(isinstance(a, str) for a in vals)
                assert len(vals) == len(set(vals)), f"duplicate in {key}"
            assert isinstance(g["resources"], list) and g["resources"]
            assert "condition" not in g or isinstance(g["condition"], str)


@pytest.mark.parametrize("kind", TYPES)
def test_layers_include_each_other(kind):
    sets = FILES[kind]["sets"]
    assert sets["heartbeat"].get("includes", []) == []
    assert "heartbeat" in sets["management"]["includes"]
    assert "management" in sets["provision"]["includes"]
    hb = _actions(_expand(FILES[kind], "heartbeat"))
    mg = _actions(_expand(FILES[kind], "management"))
    pv = _actions(_expand(FILES[kind], "provision"))
    assert hb <= mg <= pv
    for name in ("data-read", "data-write", "runtime"):
        if name in sets:
            assert not sets[name].get("includes"), f"{name} stands alone (never pulls in control-plane sets)"


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


@pytest.mark.parametrize(("kind", "set_name"), list(_all_sets()))
def test_templates_are_arm_scopes_with_known_placeholders(kind, set_name):
    for g in FILES[kind]["sets"][set_name]["grants"]:
        for t in g["resources"]:
            assert _fields(t) <= PLACEHOLDERS, _fields(t) - PLACEHOLDERS
            if t == SUBSCRIPTION_SCOPE:  # the one exception, checked in test_subscription_scope_only_for_polling
                continue
            group = STATE_RG_SCOPE if kind == STATE else RG_SCOPE  # the state store lives in its own group
            assert t.startswith(group), f"{t}: every grant stays inside the deployment's resource group"
            rendered = t.format(**SAMPLE)
            assert "{" not in rendered and "}" not in rendered and "//" not in rendered and not rendered.endswith("/")
            assert "*" not in t, "ARM scopes have no wildcards"
            # Nested scope: /providers/<Namespace>/<type>/<name>[/<type>/<name>...] (types and names alternate).
            rest = t[len(group):]
            if rest:
                m = re.fullmatch(r"/providers/(Microsoft\.[A-Za-z]+)((?:/[A-Za-z]+/[^/]+)+)", rest)
                assert m, f"{t} is not an ARM resource id"
                namespace = m.group(1).lower()
                for a in [*g.get("actions", []), *g.get("data_actions", [])]:
                    allowed = (namespace + "/", *EXTENSION_TYPES)
                    assert a.lower().startswith(allowed), f"{a} granted on a {m.group(1)} scope"
            if g["scope"] == "resource":
                assert _fields(t) & RESOURCE_KEYS, f"{t}: a resource grant names one resource"
            if g["scope"] == "stack":
                assert not _fields(t) & {"name", "container", "queue", "table", "runtime_identity", "id"}, t


def test_every_action_exists_in_built_in_roles(patterns):
    missing: list[str] = []
    for kind, set_name in _all_sets():
        grants = FILES[kind]["sets"][set_name]["grants"]
        for a in _actions(grants):
            if not _matching(a, patterns["actions"]):
                missing.append(f"{kind}/{set_name}: action {a}")
        for a in _data_actions(grants):
            if not _matching(a, patterns["dataActions"]):
                missing.append(f"{kind}/{set_name}: dataAction {a}")
    assert not missing, missing


def _resource_type(action: str) -> str:
    """`Microsoft.App/containerApps/write` -> `microsoft.app/containerapps`; `.../send/action` drops both."""
    segs = _segments(action)
    return "/".join(segs[:-2] if segs[-1] == "action" else segs[:-1])


def _real_operation_problem(action: str, pats: list[str], all_pats: list[str]) -> str | None:
    """`*/read` or `*` in a role matches anything: also require the operation's shape and that its provider
    knows it - a role pattern of the same resource provider (not starting with a wildcard) matches it, or
    (roles often list only `<type>/read` and `<type>/*/write`) the catalog names its resource type."""
    if not OPERATION.match(action):
        return "is not Microsoft.<RP>/<type>[/<subtype>...]/<read|write|delete|action>"
    namespace = action.split("/")[0].lower() + "/"
    if any(p.lower().startswith(namespace) for p in _matching(action, pats)):
        return None
    rtype = _resource_type(action) + "/"
    if any(p.lower().startswith(rtype) for p in all_pats):
        return None
    return f"matches no pattern of {namespace} and its resource type {rtype} is in no role"


def test_every_action_is_a_real_operation_of_its_provider(patterns):
    all_pats = patterns["actions"] + patterns["dataActions"]
    bad: list[str] = []
    for kind, set_name in _all_sets():
        grants = FILES[kind]["sets"][set_name]["grants"]
        for acts, pats in ((_actions(grants), patterns["actions"]), (_data_actions(grants), patterns["dataActions"])):
            for a in sorted(acts):
                problem = None if a in REVIEWED_OPERATIONS else _real_operation_problem(a, pats, all_pats)
                if problem:
                    bad.append(f"{kind}/{set_name}: {a} {problem}")
    assert not bad, bad


def test_operations_of_unlisted_resource_types_are_reviewed(patterns):
    all_pats = [p.lower() for p in patterns["actions"] + patterns["dataActions"]]
    unlisted = set()
    for kind, set_name in _all_sets():
        grants = FILES[kind]["sets"][set_name]["grants"]
        for a in _actions(grants) | _data_actions(grants):
            if not any(p.startswith(_resource_type(a) + "/") for p in all_pats):
                unlisted.add(a)
    assert unlisted <= REVIEWED_OPERATIONS, sorted(unlisted - REVIEWED_OPERATIONS)


def test_matcher_is_not_trivially_true(patterns):
    all_pats = patterns["actions"] + patterns["dataActions"]
    assert _matching("Microsoft.App/containerApps/write", patterns["actions"])  # through `*` / `*/write`
    assert _real_operation_problem("Microsoft.App/containerApps/write", patterns["actions"], all_pats) is None
    assert _real_operation_problem("Microsoft.App/doesNotExist/write", patterns["actions"], all_pats)
    assert _real_operation_problem("Microsoft.Storage/storageAccounts/listKeys", patterns["actions"], all_pats)
    assert _real_operation_problem("Microsoft.App/*", patterns["actions"], all_pats)
    assert _real_operation_problem("microsoft.app/containerApps", patterns["actions"], all_pats)
    send = "Microsoft.ServiceBus/namespaces/messages/send/action"
    assert _matching(send, patterns["dataActions"])
    assert not _matching(send, ["Microsoft.ServiceBus/*/receive/action"])


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("set_name", ["heartbeat", "management"])
def test_heartbeat_and_management_hold_no_data_no_keys_no_wildcards(kind, set_name):
    grants = _expand(FILES[kind], set_name)
    assert not _data_actions(grants), "management/heartbeat hold no dataActions"
    for a in _actions(grants):
        assert "*" not in a, f"{a}: no wildcards"
        segs = _segments(a)
        assert not set(segs) & (SECRET_OPERATIONS | PROVISION_ONLY_SECRET_OPERATIONS), f"{a} hands out keys/secrets"
        assert segs[-1] != "delete", f"{a}: management never deletes"
    # Operations that read contents through the control plane (logs, exec, secrets) are never here either.
    joined = " ".join(a.lower() for a in _actions(grants))
    for word in ("query", "search", "logstream", "exec", "debug", "getsecret", "purge"):
        assert f"/{word}/" not in joined and not joined.endswith(f"/{word}"), word


@pytest.mark.parametrize("kind", TYPES)
def test_heartbeat_is_read_only(kind):
    grants = _expand(FILES[kind], "heartbeat")
    assert grants, "every type has something to read"
    for a in _actions(grants):
        assert a.endswith("/read"), a


@pytest.mark.parametrize("kind", sorted(FILES))
def test_secret_operations_never_granted(kind):
    for set_name in FILES[kind]["sets"]:
        for g in FILES[kind]["sets"][set_name]["grants"]:
            for a in g.get("actions", []):
                segs = set(_segments(a))
                assert not segs & SECRET_OPERATIONS, f"{kind}/{set_name}: {a}"
                if segs & PROVISION_ONLY_SECRET_OPERATIONS:
                    assert set_name == "provision" and kind in COMPUTE_TYPES, f"{kind}/{set_name}: {a}"


@pytest.mark.parametrize(("kind", "set_name"), [ks for ks in _all_sets()
                                               if ks[1] in (*NON_DATA_SETS, "runtime") and ks[0] != STATE])
def test_no_data_actions_outside_data_sets(kind, set_name):
    assert not _data_actions(_expand(FILES[kind], set_name))


@pytest.mark.parametrize("kind", sorted(DATA_TYPES))
def test_data_sets_hold_only_data_actions(kind):
    sets = FILES[kind]["sets"]
    for name in ("data-read", "data-write"):
        grants = sets[name]["grants"]
        assert _data_actions(grants), f"{kind}/{name} grants contents"
        assert not _actions(grants), f"{kind}/{name}: runtime identities get dataActions only"
    for a in _data_actions(sets["data-read"]["grants"]):
        last = _segments(a)[-2] if a.endswith("/action") else _segments(a)[-1]
        assert last not in WRITE_WORDS, f"data-read must not change contents: {a}"
    for a in _data_actions(sets["data-write"]["grants"]):
        assert not a.endswith("/read") and "getsecret" not in a.lower(), f"data-write must not read contents: {a}"


@pytest.mark.parametrize("kind", sorted(FILES))
def test_assign_identity_only_on_runtime_identity(kind):
    for set_name, entry in FILES[kind]["sets"].items():
        for g in entry["grants"]:
            for t in g["resources"]:
                assert "{management_identity}" not in t or kind == "identity", f"{kind}/{set_name}: {t}"
            if "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action" in g.get("actions", []):
                assert kind in COMPUTE_TYPES and set_name == "management", f"{kind}/{set_name}"
                assert g["scope"] == "resource"
                assert g["resources"] == [
                    RG_SCOPE + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{runtime_identity}"
                ]
                assert g["actions"] == ["Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"]


@pytest.mark.parametrize("kind", sorted(COMPUTE_TYPES))
def test_compute_management_deploys_with_runtime_identity(kind):
    acts = _actions(_expand(FILES[kind], "management"))
    assert {
        "Microsoft.App/containerApps/read",
        "Microsoft.App/containerApps/write",
        "Microsoft.App/managedEnvironments/join/action",
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
    } <= acts
    assert not any(a.lower().startswith("microsoft.app/managedenvironments/") and a.endswith("/write") for a in acts)
    assert "Microsoft.App/containerApps/delete" in _actions(_expand(FILES[kind], "provision"))
    assert FILES[kind]["sets"]["runtime"]["grants"] == [] or all(
        g.get("actions") or g.get("data_actions") for g in FILES[kind]["sets"]["runtime"]["grants"])


def test_writes_that_would_open_contents_stay_out_of_management():
    """Account/namespace/vault/VNet updates can enable shared keys, public access, access policies or
    re-route traffic: they are setup changes (see the files' header comments)."""
    forbidden = {
        "storage": "Microsoft.Storage/storageAccounts/write",
        "kv": "Microsoft.Storage/storageAccounts/write",
        "queue": "Microsoft.ServiceBus/namespaces/write",
        "vault": "Microsoft.KeyVault/vaults/write",
        "network": "Microsoft.Network/virtualNetworks/write",
    }
    for kind, action in forbidden.items():
        assert action not in _actions(_expand(FILES[kind], "management")), kind
        assert action in _actions(_expand(FILES[kind], "provision")), kind
    assert FILES["vault"]["sets"]["management"]["grants"] == []


def test_identity_provision_covers_identities_roles_and_assignments():
    acts = _actions(FILES["identity"]["sets"]["provision"]["grants"])
    for a in (
        "Microsoft.ManagedIdentity/userAssignedIdentities/write",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
        "Microsoft.Authorization/roleDefinitions/write",
        "Microsoft.Authorization/roleAssignments/write",
    ):
        assert a in acts
        assert a.replace("/write", "/read") in acts, "the provider reads back what it creates"
    assert not _data_actions(FILES["identity"]["sets"]["provision"]["grants"])


def test_subscription_scope_only_for_polling():
    """Every grant stays in the deployment's resource group, except what ARM offers only at the subscription: the
    Container Apps operation-status reads a release's PUT is polled with (pulumi-azure-native follows the
    Azure-AsyncOperation URL, /subscriptions/.../providers/Microsoft.App/locations/...), and the admin's
    assignment of that one role there."""
    polling = {"Microsoft.App/locations/containerappOperationStatuses/read",
               "Microsoft.App/locations/containerappsjobOperationStatuses/read",
               "Microsoft.Network/locations/operations/read"}
    for kind, set_name in _all_sets():
        for g in FILES[kind]["sets"][set_name]["grants"]:
            if g["scope"] != "account":
                continue
            assert g["resources"] == [SUBSCRIPTION_SCOPE], (kind, set_name)
            if (kind, set_name) == ("identity", "provision"):
                assert all(a.startswith("Microsoft.Authorization/role") for a in g["actions"])
            else:
                assert set(g["actions"]) <= polling and set_name == "management", g
    network_poll = "Microsoft.Network/locations/operations/read"
    assert polling - {network_poll} <= _actions(_expand(FILES["function"], "management"))
    assert "Microsoft.Network/locations/operations/read" in _actions(_expand(FILES["network"], "management"))


def test_compute_sets_cover_what_the_components_create():
    """What alien_pulumi/components/azure creates for compute (see the files' headers): a Container App per
    function and container, a Container Apps job per function (always, so its grants bind to a resource),
    and the Foundation's environment, workspace and diagnostic setting. Heartbeat reads the app and job,
    management updates the app (and job) only, provision creates and deletes them; the workspace's shared
    key appears only as the admin's linked-access check of the diagnostic setting."""
    reads = {"Microsoft.App/containerApps/read"}
    # The environment, workspace and diagnostic setting are the Foundation's: never refreshed by a heartbeat
    # (health refreshes the stack's resource components only), so their reads are the admin's read-back.
    foundation_reads = {
        "Microsoft.App/managedEnvironments/read",
        "Microsoft.OperationalInsights/workspaces/read",
        "Microsoft.Insights/diagnosticSettings/read",
    }
    creates = {
        "Microsoft.App/containerApps/delete",
        "Microsoft.App/managedEnvironments/write",
        "Microsoft.Insights/diagnosticSettings/write",
        "Microsoft.Insights/diagnosticSettings/delete",
        "Microsoft.OperationalInsights/workspaces/write",
        "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
    }
    for kind in sorted(COMPUTE_TYPES):
        doc = FILES[kind]
        assert reads <= _actions(_expand(doc, "heartbeat")), kind
        assert not foundation_reads & _actions(_expand(doc, "management")), kind
        assert foundation_reads <= _actions(_expand(doc, "provision")), kind
        assert creates <= _actions(_expand(doc, "provision")), kind
        management = _actions(_expand(doc, "management"))
        logs = ("microsoft.insights/", "microsoft.operationalinsights/")
        assert not {a for a in management if a.lower().startswith(logs) and not a.endswith("/read")}, kind
    jobs = {"heartbeat": "Microsoft.App/jobs/read", "management": "Microsoft.App/jobs/write",
            "provision": "Microsoft.App/jobs/delete"}
    for set_name, action in jobs.items():
        assert action in _actions(_expand(FILES["function"], set_name))
        assert action not in _actions(_expand(FILES["container"], set_name)), "containers have no job"


@pytest.mark.parametrize("kind", TYPES)
def test_management_updates_name_spec_fields(kind):
    """`updates`: the spec fields of a live resource the management set can apply on Azure (every other field
    is a setup change, preflight). Azure declares it for every type; the names are real fields of the spec."""
    from alien_pulumi.model.resources import SPEC_BY_TYPE
    from alien_pulumi.model.types import ResourceType

    updates = FILES[kind]["sets"]["management"]["updates"]
    fields = set(SPEC_BY_TYPE[ResourceType(kind)].model_fields) - {"id", "lifecycle", "type"}
    assert set(updates) <= fields, (kind, set(updates) - fields)
    assert len(updates) == len(set(updates))
    if kind in COMPUTE_TYPES:
        assert "permissions" not in updates, "another profile = another identity to assign: setup"
        assert "image" in updates
    if kind in ("vault", "kv"):
        assert updates == []
    if kind == "network":
        assert "cidr" not in updates, "the address space is the VNet's (virtualNetworks/write is setup-only)"


def test_state_data_is_the_state_container_and_key_only():
    """The management identity's only data access (DESIGN.md §4a): dataActions only, each grant on exactly the
    state container (blobs) or the state key (encrypt/decrypt); no control-plane action, no other scope."""
    container = (f"{STATE_RG_SCOPE}/providers/Microsoft.Storage/storageAccounts/{{state_account}}/blobServices/default/"
                 "containers/{state_container}")
    key = f"{STATE_RG_SCOPE}/providers/Microsoft.KeyVault/vaults/{{state_vault}}/keys/{{state_key}}"
    grants = FILES[STATE]["sets"][STATE]["grants"]
    assert not _actions(grants), "no control-plane action: the state roles hold dataActions alone"
    by_scope = {tuple(g["resources"]): set(g["data_actions"]) for g in grants}
    assert by_scope == {
        (container,): {"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                       "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                       "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"},
        (key,): {"Microsoft.KeyVault/vaults/keys/encrypt/action", "Microsoft.KeyVault/vaults/keys/decrypt/action"},
    }
    provision = _expand(FILES[STATE], "provision")
    assert _data_actions(provision) == _data_actions(grants), "the admin's own data access is the state's"
    assert all(r.startswith(STATE_RG_SCOPE) for g in provision for r in g["resources"])
