"""GCP permission-set data files: shape, real permissions, and the three-layer rules (DESIGN.md §2, §4).

The files are read with a tiny local loader (yaml.safe_load over the folder); the package loader can
replace it later. Permissions are checked against the predefined-roles catalog in tests/data/catalogs/.
"""

from __future__ import annotations

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

SETS_DIR = sets_dir("gcp")
PLACEHOLDERS = {
    "prefix",
    "stack",
    "id",
    "name",
    "project",
    "region",
    "runtime_identity",
    "management_identity",
    *STATE_PLACEHOLDERS,
}

# Permissions that read or change contents (objects, messages, documents, secret values). Taken from
# the data roles roles/storage.objectViewer, roles/storage.objectUser, roles/secretmanager.secretAccessor,
# roles/secretmanager.secretVersionAdder/Manager, roles/pubsub.subscriber, roles/pubsub.publisher,
# roles/datastore.viewer, roles/datastore.user - minus their configuration reads (projects.get,
# databases.getMetadata, ...). test_data_permissions_come_from_data_roles keeps this list honest.
DATA_PERMISSIONS = {
    "storage.objects.get",
    "storage.objects.list",
    "storage.objects.create",
    "storage.objects.delete",
    "storage.objects.update",
    "storage.objects.move",
    "storage.objects.restore",
    "storage.folders.get",
    "storage.folders.list",
    "storage.managedFolders.get",
    "storage.managedFolders.list",
    "storage.multipartUploads.create",
    "storage.multipartUploads.abort",
    "storage.multipartUploads.list",
    "storage.multipartUploads.listParts",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.destroy",
    "secretmanager.versions.disable",
    "secretmanager.versions.enable",
    "pubsub.subscriptions.consume",
    "pubsub.snapshots.seek",
    "pubsub.topics.publish",
    "datastore.entities.get",
    "datastore.entities.list",
    "datastore.entities.create",
    "datastore.entities.update",
    "datastore.entities.delete",
    "datastore.entities.allocateIds",
    "datastore.databases.get",
    "datastore.namespaces.get",
    "datastore.namespaces.list",
    "datastore.statistics.get",
    "datastore.statistics.list",
    "datastore.schemas.get",
    "datastore.schemas.list",
}
DATA_ROLES = (
    "roles/storage.objectViewer",
    "roles/storage.objectUser",
    "roles/secretmanager.secretAccessor",
    "roles/secretmanager.secretVersionAdder",
    "roles/secretmanager.secretVersionManager",
    "roles/pubsub.subscriber",
    "roles/pubsub.publisher",
    "roles/datastore.viewer",
    "roles/datastore.user",
)
# Reading roles: their data permissions must never be in heartbeat or management.
READ_ROLES = (
    "roles/storage.objectViewer",
    "roles/secretmanager.secretAccessor",
    "roles/pubsub.subscriber",
    "roles/datastore.viewer",
)
# Read verbs a heartbeat may use (the last segment of a permission).
HEARTBEAT_VERBS = {"get", "list", "getIamPolicy", "getMetadata"}
# create/delete in management: none is justified on GCP.
MANAGEMENT_CREATE_DELETE_ALLOWED: set[str] = set()


def _load() -> dict[str, dict]:
    files = {}
    for path in sorted(SETS_DIR.glob("*.yaml")):
        files[path.stem] = yaml.safe_load(path.read_text())
    return files


FILES = _load()


def _expand(doc: dict, set_name: str, seen: tuple[str, ...] = ()) -> list[dict]:
    """Grants of a set with its includes expanded (transitively)."""
    assert set_name not in seen, f"include cycle {(*seen, set_name)}"
    entry = doc["sets"][set_name]
    grants = []
    for inc in entry.get("includes", []):
        grants.extend(_expand(doc, inc, (*seen, set_name)))
    grants.extend(entry.get("grants") or [])
    return grants


def _actions(grants: list[dict]) -> set[str]:
    return {a for g in grants for a in g.get("actions", [])}


def _all_sets():
    for kind, doc in FILES.items():
        for set_name in doc["sets"]:
            yield kind, set_name


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict]:
    return load_catalog("gcp-predefined-roles.json.gz")


@pytest.fixture(scope="module")
def known_permissions(catalog) -> set[str]:
    return {p for role in catalog.values() for p in role["permissions"]}


def test_all_files_present():
    assert set(FILES) == set(TYPES) | {"identity", "registry", STATE}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_file_shape(kind):
    doc = FILES[kind]
    assert doc["type"] == kind
    assert doc["cloud"] == "gcp"
    text = (SETS_DIR / f"{kind}.yaml").read_text()
    assert text.startswith("#"), "each file starts with a comment block"
    expected = {"heartbeat", "management", "provision"}
    if kind in DATA_TYPES:
        expected |= {"data-read", "data-write"}
    if kind in COMPUTE_TYPES:
        expected |= {"runtime"}
    if kind == "identity":
        expected = {"provision"}
    if kind == "registry":  # setup-owned mirrors: no management set, Cloud Run's service agent pulls
        expected = {"provision"}
    if kind == STATE:  # the state store (DESIGN.md §4a): what the management identity uses, what the admin creates
        expected = {STATE, "provision"}
    assert set(doc["sets"]) == expected
    for set_name, entry in doc["sets"].items():
        assert isinstance(entry["description"], str) and entry["description"].strip(), set_name
        assert set(entry) <= {"description", "includes", "grants", "updates", "effects"}, (kind, set_name)
        if "updates" in entry:
            assert set_name == "management", "only a management set says which live changes it can apply"
        for inc in entry.get("includes", []):
            assert inc in doc["sets"], f"{kind}/{set_name} includes unknown {inc}"
        for grant in entry.get("grants") or []:
            assert set(grant) <= {"description", "scope", "actions", "resources", "condition", "setup_only", "when",
                                  "exposes"}, grant
            assert grant["description"].strip()
            assert grant["scope"] in SCOPES
            assert grant["actions"], grant
            assert grant["resources"], grant
            if "condition" in grant:
                assert set(grant["condition"]) == {"title", "expression"}


@pytest.mark.parametrize("kind", TYPES)
def test_layers_include_each_other(kind):
    sets = FILES[kind]["sets"]
    assert "heartbeat" in sets["management"]["includes"]
    assert "management" in sets["provision"]["includes"]
    hb = _actions(_expand(FILES[kind], "heartbeat"))
    mg = _actions(_expand(FILES[kind], "management"))
    pv = _actions(_expand(FILES[kind], "provision"))
    assert hb and hb <= mg <= pv


def _templates(grant: dict) -> list[str]:
    out = list(grant["resources"])
    if "condition" in grant:
        out += [grant["condition"]["title"], grant["condition"]["expression"]]
    return out


@pytest.mark.parametrize(("kind", "set_name"), list(_all_sets()))
def test_templates_use_only_known_placeholders_and_render(kind, set_name):
    values = {
        "prefix": "acme-app",
        "stack": "app",
        "id": "db",
        "name": "acme-app-db",
        "project": "p-1",
        "region": "europe-west1",
        "runtime_identity": "acme-app-rt-api@p-1.iam.gserviceaccount.com",
        "management_identity": "acme-app-mgmt@p-1.iam.gserviceaccount.com",
        **{name: f"acme-app-{name}" for name in STATE_PLACEHOLDERS},
    }
    for grant in FILES[kind]["sets"][set_name].get("grants") or []:
        for tpl in _templates(grant):
            fields = {f for _, f, _, _ in string.Formatter().parse(tpl) if f is not None}
            assert fields <= PLACEHOLDERS, (kind, set_name, tpl)
            rendered = tpl.format(**values)
            assert "{name}" not in rendered


@pytest.mark.parametrize(("kind", "set_name"), list(_all_sets()))
def test_resource_templates(kind, set_name):
    for grant in FILES[kind]["sets"][set_name].get("grants") or []:
        for res in grant["resources"]:
            assert res == "projects/{project}" or res.startswith("//"), res
            if res.startswith("//") and kind == STATE:
                # the state store's buckets or key, one named resource each (checked in test_state_...)
                assert ("{state_" in res or "{setup_bucket}" in res) and grant["scope"] == "stack", res
            elif res.startswith("//"):
                # a full resource name is a resource-level binding on one named resource
                assert grant["scope"] == "resource"
                assert "{name}" in res or "{runtime_identity}" in res or "{management_identity}" in res
            elif grant["scope"] == "resource":
                # a per-resource grant bound on the project must be narrowed by an IAM condition
                assert "condition" in grant and "{name}" in grant["condition"]["expression"], grant
        if grant["scope"] in {"stack", "account"} and kind != STATE:
            assert grant["resources"] == ["projects/{project}"]
            assert "condition" not in grant


def test_every_permission_is_in_a_predefined_role(known_permissions):
    missing = {
        (kind, set_name, action)
        for kind, set_name in _all_sets()
        for action in _actions(FILES[kind]["sets"][set_name].get("grants") or [])
        if action not in known_permissions
    }
    assert not missing


def test_data_permissions_come_from_data_roles(catalog):
    from_roles = {p for role in DATA_ROLES for p in catalog[role]["permissions"]}
    assert DATA_PERMISSIONS <= from_roles


def test_read_roles_data_permissions_are_listed(catalog):
    # every content-reading permission of the reading roles is in DATA_PERMISSIONS, except their
    # project/configuration reads
    config_reads = {
        "resourcemanager.projects.get",
        "resourcemanager.projects.list",
        "appengine.applications.get",
        "datastore.databases.getMetadata",
        "datastore.databases.list",
        "datastore.insights.get",
        "pubsub.topics.attachSubscription",
    }
    for role in READ_ROLES:
        perms = set(catalog[role]["permissions"])
        unlisted = {p for p in perms - DATA_PERMISSIONS - config_reads if not p.startswith("databasesconsole.")}
        assert not unlisted, (role, unlisted)


@pytest.mark.parametrize(("kind", "set_name"), [ks for ks in _all_sets() if ks[1] in NON_DATA_SETS and ks[0] != STATE])
def test_no_data_permission_outside_data_sets(kind, set_name):
    found = _actions(_expand(FILES[kind], set_name)) & DATA_PERMISSIONS
    assert not found, (kind, set_name, found)


@pytest.mark.parametrize("kind", TYPES)
def test_no_read_role_data_permission_in_heartbeat_or_management(kind, catalog):
    read_role_data = {p for role in READ_ROLES for p in catalog[role]["permissions"]} & DATA_PERMISSIONS
    for set_name in ("heartbeat", "management"):
        found = _actions(_expand(FILES[kind], set_name)) & read_role_data
        assert not found, (kind, set_name, found)


@pytest.mark.parametrize("kind", sorted(DATA_TYPES))
def test_data_sets_hold_data_permissions(kind):
    for set_name in ("data-read", "data-write"):
        actions = _actions(_expand(FILES[kind], set_name))
        assert actions & DATA_PERMISSIONS, (kind, set_name)
        # no control-plane writes sneak into a data set
        assert not {
            a
            for a in actions
            if a.rsplit(".", 1)[1] in {"setIamPolicy", "update"}
            and not a.startswith(("storage.objects.", "datastore.entities."))
        }, (kind, set_name)
    reads = _actions(_expand(FILES[kind], "data-read"))
    assert not {a for a in reads if a.rsplit(".", 1)[1] in {"create", "delete", "update", "add", "destroy"}}


@pytest.mark.parametrize("kind", TYPES)
def test_heartbeat_is_read_only(kind):
    for action in _actions(_expand(FILES[kind], "heartbeat")):
        verb = action.rsplit(".", 1)[1]
        assert verb in HEARTBEAT_VERBS, (kind, action)


@pytest.mark.parametrize("kind", TYPES)
def test_management_has_no_create_delete_or_iam_write(kind):
    for action in _actions(_expand(FILES[kind], "management")):
        verb = action.rsplit(".", 1)[1]
        if verb in {"create", "delete"}:
            assert action in MANAGEMENT_CREATE_DELETE_ALLOWED, (kind, action)
        assert verb != "setIamPolicy", (kind, action)
        assert not action.startswith(("iam.roles.", "resourcemanager.")), (kind, action)


@pytest.mark.parametrize(("kind", "set_name"), list(_all_sets()))
def test_act_as_only_on_runtime_identity(kind, set_name):
    for grant in _expand(FILES[kind], set_name):
        if "iam.serviceAccounts.actAs" in grant["actions"]:
            assert grant["scope"] == "resource"
            assert "condition" not in grant
            assert grant["resources"] == ["//iam.googleapis.com/projects/{project}/serviceAccounts/{runtime_identity}"]
        for res in grant["resources"]:
            if "{management_identity}" in res:
                # only the admin's identity provisioning touches the management identity
                assert (kind, set_name) == ("identity", "provision"), (kind, set_name, res)


@pytest.mark.parametrize("kind", sorted(COMPUTE_TYPES))
def test_compute_management_deploys_with_runtime_identity(kind):
    actions = _actions(_expand(FILES[kind], "management"))
    assert {"run.services.update", "iam.serviceAccounts.actAs"} <= actions
    assert "run.services.setIamPolicy" not in actions


def test_account_scope_is_rare_and_read_only():
    # unnarrowable project-wide grants: only operation polling, never a write
    for kind, set_name in _all_sets():
        for grant in FILES[kind]["sets"][set_name].get("grants") or []:
            if grant["scope"] == "account":
                assert all(a.endswith(("operations.get", "Operations.get")) for a in grant["actions"]), grant


@pytest.mark.parametrize("kind", TYPES)
def test_management_updates_name_spec_fields(kind):
    # `updates` lists the spec fields of a live resource the management set can apply on GCP; every other
    # field is a setup change (preflight). The names must be real fields of the type's spec.
    from alien_pulumi.model.resources import SPEC_BY_TYPE
    from alien_pulumi.model.types import ResourceType

    updates = FILES[kind]["sets"]["management"].get("updates")
    if updates is None:
        return
    fields = set(SPEC_BY_TYPE[ResourceType(kind)].model_fields) - {"id", "lifecycle", "type"}
    assert set(updates) <= fields, (kind, set(updates) - fields)
    assert len(updates) == len(set(updates))


@pytest.mark.parametrize("kind", sorted(COMPUTE_TYPES))
def test_compute_public_and_profile_are_setup_changes(kind):
    # The public invoker binding (run.services.setIamPolicy) and the runtime account (actAs on another
    # account) are setup-owned on GCP; function triggers too (Grants component, setup_only grants).
    updates = set(FILES[kind]["sets"]["management"]["updates"])
    assert not updates & {"public", "permissions", "triggers"}


@pytest.mark.parametrize(("kind", "set_name"), list(_all_sets()))
def test_setup_only_grants(kind, set_name):
    # setup_only grants are for the admin's run: only in provision sets, never in what management may include,
    # and bound on the project (what they cover cannot be narrowed; see function.yaml).
    for grant in FILES[kind]["sets"][set_name].get("grants") or []:
        if grant.get("setup_only"):
            assert set_name == "provision", (kind, set_name, grant)
            assert grant["scope"] == "stack" and grant["resources"] == ["projects/{project}"], grant
    if set_name in ("heartbeat", "management"):
        assert not any(g.get("setup_only") for g in _expand(FILES[kind], set_name))


def test_function_triggers_are_setup_only():
    # Cloud Scheduler and Pub/Sub cannot narrow IAM to one job/subscription, so their permissions are only ever
    # the admin's: never in management (even through management.extend, which drops setup_only grants).
    provision = _expand(FILES["function"], "provision")
    trigger = {"cloudscheduler.jobs.create", "cloudscheduler.jobs.update", "pubsub.subscriptions.update"}
    for grant in provision:
        if set(grant["actions"]) & trigger:
            assert grant.get("setup_only") is True, grant
    management = _actions(_expand(FILES["function"], "management"))
    assert not {a for a in management if a.startswith(("cloudscheduler.", "pubsub."))}


def test_function_runtime_invokes_only_its_own_service():
    # Its triggers authenticate as the runtime identity: invoke on the function's own service, nothing else.
    grants = FILES["function"]["sets"]["runtime"]["grants"]
    assert [(g["actions"], g["resources"]) for g in grants] == [
        (["run.routes.invoke"], ["//run.googleapis.com/projects/{project}/locations/{region}/services/{name}"])
    ]
    assert not FILES["container"]["sets"]["runtime"]["grants"]


@pytest.mark.parametrize("kind", TYPES)
def test_heartbeat_and_management_read_no_iam_policy(kind):
    # IAM members live in the Grants component, which the heartbeat refresh does not target (it refreshes the
    # resource components only): reading an IAM policy is the admin's (provision) need.
    for set_name in ("heartbeat", "management"):
        found = {a for a in _actions(_expand(FILES[kind], set_name)) if a.endswith(("getIamPolicy", "setIamPolicy"))}
        assert not found, (kind, set_name, found)


def test_impersonation_role_is_get_access_token_only(known_permissions, catalog):
    """The vendor's impersonation: a custom role with exactly getAccessToken, a real permission, and less than the
    predefined token creator role (which also signs blobs and JWTs and mints OIDC tokens)."""
    from alien_pulumi.permissions.render.gcp import IMPERSONATION_PERMISSIONS

    assert IMPERSONATION_PERMISSIONS == ("iam.serviceAccounts.getAccessToken",)
    assert set(IMPERSONATION_PERMISSIONS) <= known_permissions
    creator = set(catalog["roles/iam.serviceAccountTokenCreator"]["permissions"])
    assert set(IMPERSONATION_PERMISSIONS) < creator and "iam.serviceAccounts.signBlob" in creator


def test_state_data_is_the_state_bucket_and_key_only(catalog):
    """The management identity's only data access (DESIGN.md §4a): objects of the state bucket and use of the
    state key, each bound on that one resource (never the project); exactly what the predefined roles for object
    use and key use hold, no more."""
    bucket = "//storage.googleapis.com/projects/_/buckets/{state_bucket}"
    key = ("//cloudkms.googleapis.com/projects/{project}/locations/{region}/keyRings/{state_key_ring}/cryptoKeys/"
           "{state_key}")
    grants = FILES[STATE]["sets"][STATE]["grants"]
    by_scope = {tuple(g["resources"]): set(g["actions"]) for g in grants}
    assert set(by_scope) == {(bucket,), (key,)}
    assert by_scope[(bucket,)] <= set(catalog["roles/storage.objectUser"]["permissions"]) & DATA_PERMISSIONS
    assert by_scope[(key,)] == set(catalog["roles/cloudkms.cryptoKeyEncrypterDecrypter"]["permissions"]) - {
        "cloudkms.locations.get", "cloudkms.locations.list", "resourcemanager.projects.get"}
    provision = _expand(FILES[STATE], "provision")
    data = _actions(provision) & DATA_PERMISSIONS
    # The admin's own data access: the state bucket, and the setup bucket where the setup record's copy is kept.
    setup = "//storage.googleapis.com/projects/_/buckets/{setup_bucket}"
    assert data == by_scope[(bucket,)] and all(g["resources"] in ([bucket], [setup]) for g in provision
                                               if set(g["actions"]) & DATA_PERMISSIONS)
