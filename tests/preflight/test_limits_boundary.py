"""Cloud limits at their boundaries (issue 25, item 3): for each limit the preflight checks and each limit the
renderers pack against, a stack or rendered layer exactly at the limit passes and one just past it is refused or
packed, and what is packed is measured against the cloud's limit itself: the managed policies a role gets, each
policy's characters as IAM counts them (whitespace not counted), the permissions of each custom role, the
bindings of one role and member, the characters and logical operators of each joined condition.

The limits are written out here, not imported: a test measuring against the module's own constant would move
with it when that constant is off by one."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.permissions.plan import BoundGrant, Layer, PermissionPlan
from alien_pulumi.permissions.render import aws, gcp
from alien_pulumi.permissions.render.aws import split_documents, statements
from alien_pulumi.preflight import Code, from_spec, preflight
from alien_pulumi.preflight.findings import Finding
from alien_pulumi.preflight.limits import limit_findings
from benchmarks.stacks import stack_of

# AWS IAM quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html), default values.
AWS_MANAGED_POLICIES_PER_ROLE = 10
AWS_MANAGED_POLICY_CHARS = 6_144
AWS_TRUST_POLICY_CHARS = 2_048
# GCP IAM: custom roles per project, permissions per custom role, role id/title/description lengths; an allow
# policy's principals, bindings of one role and principal differing by condition; a condition's expression.
GCP_CUSTOM_ROLES_PER_PROJECT = 300
GCP_PERMISSIONS_PER_ROLE = 3_000
GCP_ROLE_ID_CHARS, GCP_ROLE_TITLE_CHARS, GCP_ROLE_DESCRIPTION_CHARS = 64, 100, 256
GCP_PRINCIPALS_PER_POLICY = 1_500
GCP_CONDITIONAL_BINDINGS_PER_ROLE_MEMBER = 20
GCP_CONDITION_CHARS = 12_800
GCP_CONDITION_LOGICAL_OPERATORS = 12
# Azure: role assignments per subscription (fixed; preflight warns past half of it), custom roles per tenant.
AZURE_ASSIGNMENTS_PER_SUBSCRIPTION = 4_000
AZURE_CUSTOM_ROLES_PER_TENANT = 5_000

ACCOUNT = "210987654321"
VENDOR_ROLE = "arn:aws:iam::111122223333:role/alien-release"


def found(platform: Platform, rendered: dict[str, Any]) -> list[tuple[Code, bool]]:
    return [(f.code, f.blocks) for f in limit_findings(platform, rendered)]


def one(platform: Platform, rendered: dict[str, Any], code: Code) -> Finding:
    findings = limit_findings(platform, rendered)
    assert [f.code for f in findings] == [code], [f.message for f in findings]
    return findings[0]


def tiny_plan(platform: str) -> PermissionPlan:
    spec = alien.Stack("tiny").platforms(platform).add(alien.Storage("data"), "frozen").build()
    return derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name))


# AWS -----------------------------------------------------------------------------------------------------------

def iam_chars(text: str) -> int:
    """A policy's size as IAM counts it: the characters of the JSON sent, whitespace outside strings not counted.
    Written here from the rule, not with the renderer's own measure."""
    count, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            count += 1
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            count += 1
        elif not char.isspace():
            count += 1
    return count


def sent(document: dict[str, Any]) -> int:
    """The size of a document as components/aws/identities.py sends it (json.dumps, with its spaces)."""
    return iam_chars(json.dumps(document))


def policy(chars: int, sid: str = "Pad") -> dict[str, Any]:
    """A managed policy document of exactly ``chars`` characters as IAM counts them."""
    doc: dict[str, Any] = {"Version": aws.VERSION, "Statement": [
        {"Sid": sid, "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/"]}]}
    doc["Statement"][0]["Resource"] = ["arn:aws:s3:::b/" + "x" * (chars - sent(doc))]
    assert sent(doc) == chars
    return doc


def trust(chars: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"Version": aws.VERSION, "Statement": [
        {"Sid": "T", "Effect": "Allow", "Principal": {"AWS": VENDOR_ROLE}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": ""}}}]}
    doc["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] = "x" * (chars - sent(doc))
    assert sent(doc) == chars
    return doc


def aws_role(policies: int = 1, policy_chars: int = 300, trust_chars: int = 300) -> dict[str, Any]:
    return {"policies": [policy(policy_chars, f"P{i}") for i in range(policies)],
            "trust_policy": trust(trust_chars)}


def test_iam_counts_a_policy_without_its_whitespace() -> None:
    doc = policy(AWS_MANAGED_POLICY_CHARS)
    assert iam_chars(json.dumps(doc, indent=4)) == iam_chars(json.dumps(doc, separators=(",", ":"))) == 6_144
    assert len(json.dumps(doc)) > 6_144 and len(json.dumps(doc, indent=4)) > 6_144  # what is sent is longer
    assert iam_chars('{"a b": "c d"}') == len('{"a b":"c d"}')  # whitespace inside strings counts


@pytest.mark.parametrize("where", ["management", "runtime"])
def test_aws_managed_policies_per_role_at_the_quota_pass_one_more_is_refused(where: str) -> None:
    def rendered(count: int) -> dict[str, Any]:
        role = aws_role(count)
        if where == "management":
            return {"management": role, "runtime": {"app": aws_role()}}
        return {"management": aws_role(), "runtime": {"app": aws_role(), "worker": role}}

    assert found(Platform.AWS, rendered(AWS_MANAGED_POLICIES_PER_ROLE)) == []
    finding = one(Platform.AWS, rendered(AWS_MANAGED_POLICIES_PER_ROLE + 1), Code.LIMIT_AWS_MANAGED_POLICIES)
    assert finding.blocks and f"needs {AWS_MANAGED_POLICIES_PER_ROLE + 1} managed policies" in finding.message
    assert ("management identity" if where == "management" else "runtime profile 'worker'") in finding.message


@pytest.mark.parametrize("where", ["management", "runtime"])
def test_aws_a_policy_of_exactly_6144_characters_passes_6145_is_refused(where: str) -> None:
    def rendered(chars: int) -> dict[str, Any]:
        role = {"policies": [policy(300), policy(chars)], "trust_policy": trust(300)}
        return {"management": role if where == "management" else aws_role(),
                "runtime": {"app": role if where == "runtime" else aws_role()}}

    assert found(Platform.AWS, rendered(AWS_MANAGED_POLICY_CHARS)) == []
    finding = one(Platform.AWS, rendered(AWS_MANAGED_POLICY_CHARS + 1), Code.LIMIT_AWS_POLICY_SIZE)
    assert finding.blocks and "policy 2 of the" in finding.message and "is 6145 characters" in finding.message


def test_aws_a_trust_policy_of_exactly_2048_characters_passes_2049_is_refused() -> None:
    def rendered(chars: int) -> dict[str, Any]:
        return {"management": aws_role(trust_chars=chars), "runtime": {"app": aws_role()}}

    assert found(Platform.AWS, rendered(AWS_TRUST_POLICY_CHARS)) == []
    finding = one(Platform.AWS, rendered(AWS_TRUST_POLICY_CHARS + 1), Code.LIMIT_AWS_TRUST_POLICY_SIZE)
    assert finding.blocks and "trust policy is 2049 characters" in finding.message


def test_aws_a_real_trust_policy_at_2048_characters_passes_one_more_is_refused() -> None:
    """The management role's trust grows with the external id (up to 1,224 characters): a deployment whose trust
    is exactly at IAM's default quota sets up; one character more is refused before anything is created."""
    spec = alien.Stack("trust").platforms("aws").add(alien.Storage("data"), "frozen").build()

    def rendered(external_chars: int) -> dict[str, Any]:
        ctx = alien.DeploymentContext.create("aws", spec.name, account_id=ACCOUNT, region="eu-west-3",
                                             vendor_principal=VENDOR_ROLE, external_id="e" * external_chars,
                                             access_until="2031-01-01")
        return render_all(derive_plan(spec, ctx))

    base = sent(rendered(32)["management"]["trust_policy"])
    at = rendered(32 + AWS_TRUST_POLICY_CHARS - base)
    assert sent(at["management"]["trust_policy"]) == 2_048
    assert found(Platform.AWS, at) == []
    past = rendered(33 + AWS_TRUST_POLICY_CHARS - base)
    assert sent(past["management"]["trust_policy"]) == 2_049
    assert found(Platform.AWS, past) == [(Code.LIMIT_AWS_TRUST_POLICY_SIZE, True)]


def statement(sid: str, resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": resources}


def padded(stmts: list[dict[str, Any]], chars: int) -> list[dict[str, Any]]:
    """``stmts`` with the last resource of the last statement lengthened so that one document of them all is
    exactly ``chars`` characters."""
    out = json.loads(json.dumps(stmts))
    missing = chars - sent({"Version": aws.VERSION, "Statement": out})
    out[-1]["Resource"][-1] += "x" * missing
    assert sent({"Version": aws.VERSION, "Statement": out}) == chars
    return out


def test_aws_statements_fill_a_policy_up_to_exactly_6144_characters_and_no_further() -> None:
    stmts = [statement(f"S{i}", [f"arn:aws:s3:::acme-bucket-{i}/*"]) for i in range(20)]
    at = padded(stmts, AWS_MANAGED_POLICY_CHARS)
    assert [sent(d) for d in split_documents(at)] == [6_144]
    past = padded(stmts, AWS_MANAGED_POLICY_CHARS + 1)
    docs = split_documents(past)
    assert len(docs) == 2 and all(sent(d) <= AWS_MANAGED_POLICY_CHARS for d in docs)
    assert [s for d in docs for s in d["Statement"]] == past  # every statement, once, in order


def test_aws_a_statement_too_big_for_one_policy_is_cut_into_policies_inside_the_limit() -> None:
    resources = [f"arn:aws:s3:::acme-bucket-{i:04d}/*" for i in range(170)]
    [at] = padded([statement("Big", resources)], AWS_MANAGED_POLICY_CHARS)
    assert split_documents([at]) == [{"Version": aws.VERSION, "Statement": [at]}]  # not cut
    [past] = padded([statement("Big", resources)], AWS_MANAGED_POLICY_CHARS + 1)
    docs = split_documents([past])
    assert len(docs) == 2 and all(sent(d) <= AWS_MANAGED_POLICY_CHARS for d in docs)
    chunks = [s for d in docs for s in d["Statement"]]
    assert [r for s in chunks for r in s["Resource"]] == past["Resource"]  # no resource lost or repeated
    assert len({s["Sid"] for s in chunks}) == len(chunks)
    assert all({k: v for k, v in s.items() if k not in ("Sid", "Resource")} ==
               {k: v for k, v in past.items() if k not in ("Sid", "Resource")} for s in chunks)


def aws_layer(grants: int, name: str = "management", wide: bool = True) -> Layer:
    """``grants`` statements each too big to share a policy with another (exact ARNs: 120 buckets each), so
    that exact ARNs need one managed policy per grant; packed on the prefix (``wide``), they all fit one."""
    return Layer(name=name, holder="test", identity="tiny-management", uses=(), grants=tuple(
        BoundGrant(set_id="storage/management", resource_id=f"g{i}", description=f"grant {i}", scope="resource",
                   actions=("s3:GetBucketPolicy", "s3:PutBucketPolicy"), data_actions=(),
                   resources=tuple(f"arn:aws:s3:::tiny-bucket-{i:03d}-{j:03d}" for j in range(120)),
                   stack_wide=("arn:aws:s3:::tiny-*",) if wide else ())
        for i in range(grants)))


def test_aws_exact_arns_are_kept_at_10_policies_and_packed_at_11() -> None:
    plan = tiny_plan("aws")
    at = aws_layer(AWS_MANAGED_POLICIES_PER_ROLE)
    exact = split_documents(statements(at))
    assert len(exact) == 10 and all(3_072 < sent(d) <= 6_144 for d in exact)
    assert aws.render(plan, at)["policies"] == exact  # at the quota: exact ARNs, nothing packed

    past = aws_layer(AWS_MANAGED_POLICIES_PER_ROLE + 1)
    assert len(split_documents(statements(past))) == 11
    packed = aws.render(plan, past)["policies"]
    assert 1 <= len(packed) <= AWS_MANAGED_POLICIES_PER_ROLE
    assert all(sent(d) <= AWS_MANAGED_POLICY_CHARS for d in packed)
    assert {r for d in packed for s in d["Statement"] for r in s["Resource"]} == {"arn:aws:s3:::tiny-*"}
    assert len([s for d in packed for s in d["Statement"]]) == 11  # every grant still there
    rendered = {"management": aws.render(plan, past), "runtime": {}}
    assert found(Platform.AWS, rendered) == []
    # The provisioning layer is the admin's document, attached to no role: exact at any count.
    assert len(aws.render(plan, aws_layer(11, name="provisioning"))["policies"]) == 11


def test_aws_grants_that_cannot_be_packed_pass_at_10_policies_and_are_refused_at_11() -> None:
    plan = tiny_plan("aws")
    at = aws.render(plan, aws_layer(AWS_MANAGED_POLICIES_PER_ROLE, wide=False))
    assert len(at["policies"]) == 10 and found(Platform.AWS, {"management": at, "runtime": {}}) == []
    past = aws.render(plan, aws_layer(AWS_MANAGED_POLICIES_PER_ROLE + 1, wide=False))
    assert len(past["policies"]) == 11
    finding = one(Platform.AWS, {"management": past, "runtime": {}}, Code.LIMIT_AWS_MANAGED_POLICIES)
    assert finding.blocks and "needs 11 managed policies" in finding.message


def management_policies(n: int) -> int:
    spec = stack_of(n, ("aws",))
    return len(split_documents(statements(derive_plan(spec, alien.DeploymentContext.example_context(
        "aws", spec.name)).management)))


def test_aws_a_stack_whose_management_role_needs_10_policies_keeps_them_one_more_resource_packs_them() -> None:
    """Real stacks around the boundary: the smallest stack whose management role would need 11 managed policies
    with exact ARNs (found by bisection), and the stack one resource smaller, which needs 10."""
    low, high = 10, 400
    assert management_policies(low) <= 10 < management_policies(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if management_policies(middle) <= 10 else (low, middle)
    assert (management_policies(low), management_policies(high)) == (10, 11)

    def rendered(n: int) -> tuple[alien.StackSpec, dict[str, Any], list[dict[str, Any]]]:
        spec = stack_of(n, ("aws",))
        plan = derive_plan(spec, alien.DeploymentContext.example_context("aws", spec.name))
        return spec, render_all(plan), split_documents(statements(plan.management))

    spec, at, exact = rendered(low)
    assert at["management"]["policies"] == exact and len(exact) == AWS_MANAGED_POLICIES_PER_ROLE
    spec, past, exact = rendered(high)
    assert len(exact) == 11
    policies = past["management"]["policies"]
    assert policies != exact and len(policies) <= AWS_MANAGED_POLICIES_PER_ROLE
    for layer in [past["management"], *past["runtime"].values()]:
        assert len(layer["policies"]) <= AWS_MANAGED_POLICIES_PER_ROLE
        assert all(sent(d) <= AWS_MANAGED_POLICY_CHARS for d in layer["policies"])
        assert sent(layer["trust_policy"]) <= AWS_TRUST_POLICY_CHARS
    report = preflight(spec, from_spec(spec))
    assert not [f for f in report.findings if f.code.value.startswith("LIMIT_")]


# GCP -----------------------------------------------------------------------------------------------------------

IMPERSONATION = {"custom_role": {"id": "imp", "permissions": ["iam.serviceAccounts.getAccessToken"]}}


def role(rid: str, permissions: int = 1) -> dict[str, Any]:
    return {"id": rid, "permissions": [f"storage.buckets.p{j}" for j in range(permissions)]}


def gcp_layer(roles: list[dict[str, Any]] | None = None, bindings: list[dict[str, Any]] | None = None,
              management: bool = False) -> dict[str, Any]:
    layer: dict[str, Any] = {"roles": roles or [], "bindings": bindings or []}
    if management:
        layer["impersonation"] = IMPERSONATION
    return layer


def binding(scope: str, role_id: str, member: str, condition: int | None = None) -> dict[str, Any]:
    return {"scope": scope, "role": role_id, "member": member,
            "condition": None if condition is None else {"title": f"c{condition}",
                                                         "expression": f'resource.name == "n{condition}"'}}


def test_gcp_custom_roles_per_project_count_every_layer_and_the_impersonation_role() -> None:
    def rendered(roles: int) -> dict[str, Any]:
        ids = [f"r{i}" for i in range(roles - 1)]  # and the impersonation role
        half = len(ids) // 2
        return {"management": gcp_layer([role(r) for r in ids[:half]], management=True),
                "runtime": {"app": gcp_layer([role(r) for r in ids[half:]]
                                             + [role(ids[0])]  # a role two layers use is one role
                                             + [{"id": "empty", "permissions": []}])}}  # never created

    assert found(Platform.GCP, rendered(GCP_CUSTOM_ROLES_PER_PROJECT)) == []
    finding = one(Platform.GCP, rendered(GCP_CUSTOM_ROLES_PER_PROJECT + 1), Code.LIMIT_GCP_CUSTOM_ROLES)
    assert finding.blocks and "needs 301 custom roles" in finding.message


@pytest.mark.parametrize("where", ["management", "runtime"])
def test_gcp_a_role_of_exactly_3000_permissions_passes_3001_is_refused(where: str) -> None:
    def rendered(permissions: int) -> dict[str, Any]:
        big = [role("small"), role("big", permissions)]
        return {"management": gcp_layer(big if where == "management" else None, management=True),
                "runtime": {"app": gcp_layer(big if where == "runtime" else None)}}

    assert found(Platform.GCP, rendered(GCP_PERMISSIONS_PER_ROLE)) == []
    finding = one(Platform.GCP, rendered(GCP_PERMISSIONS_PER_ROLE + 1), Code.LIMIT_GCP_ROLE_PERMISSIONS)
    assert finding.blocks and "custom role big holds 3001 permissions" in finding.message


def gcp_grant(i: int, actions: tuple[str, ...], scope: str, condition: dict[str, str] | None = None,
              set_id: str = "kv/heartbeat", description: str = "test grant") -> BoundGrant:
    return BoundGrant(set_id=set_id, resource_id=f"r{i}", description=description, scope="resource",
                      actions=actions, data_actions=(), resources=(scope,), condition=condition)


def gcp_runtime(plan: PermissionPlan, grants: list[BoundGrant]) -> dict[str, Any]:
    """``grants`` rendered as a runtime profile's layer, beside the plan's own management layer."""
    layer = Layer(name="runtime", holder="test", identity="tiny-rt-app@acme-customer-prod.iam.gserviceaccount.com",
                  uses=(), grants=tuple(grants))
    return {"management": gcp.render(plan, plan.management), "runtime": {"app": gcp.render(plan, layer)}}


def test_gcp_a_rendered_role_of_3000_permissions_passes_3001_is_refused() -> None:
    plan = tiny_plan("gcp")
    bucket = "//storage.googleapis.com/projects/_/buckets/tiny-data"

    def rendered(permissions: int) -> dict[str, Any]:
        actions = tuple(f"storage.buckets.p{j:04d}" for j in range(permissions))
        return gcp_runtime(plan, [gcp_grant(0, actions, bucket)])

    at = rendered(GCP_PERMISSIONS_PER_ROLE)
    assert [len(r["permissions"]) for r in at["runtime"]["app"]["roles"]] == [3_000]
    assert found(Platform.GCP, at) == []
    assert found(Platform.GCP, rendered(GCP_PERMISSIONS_PER_ROLE + 1)) == [(Code.LIMIT_GCP_ROLE_PERMISSIONS, True)]


def test_gcp_20_bindings_of_one_role_and_member_by_condition_pass_21_are_refused() -> None:
    def rendered(count: int) -> dict[str, Any]:
        mine = [binding("projects/p", "roles/a", "serviceAccount:m", i) for i in range(count)]
        # Counted per role and member: as many again of another role, or of another member, are apart.
        others = [binding("projects/p", "roles/b", "serviceAccount:m", i) for i in range(20)] + [
            binding("projects/p", "roles/a", "serviceAccount:o", i) for i in range(20)]
        return {"management": gcp_layer(bindings=mine[:10] + others, management=True),
                "runtime": {"app": gcp_layer(bindings=mine[10:])}}

    assert found(Platform.GCP, rendered(GCP_CONDITIONAL_BINDINGS_PER_ROLE_MEMBER)) == []
    finding = one(Platform.GCP, rendered(GCP_CONDITIONAL_BINDINGS_PER_ROLE_MEMBER + 1),
                  Code.LIMIT_GCP_CONDITIONAL_BINDINGS)
    assert finding.blocks and "21 bindings of roles/a to serviceAccount:m" in finding.message


def test_gcp_1500_principals_in_one_policy_pass_1501_are_refused() -> None:
    def rendered(count: int) -> dict[str, Any]:
        mine = [binding("//run/s", "roles/a", f"serviceAccount:m{i}") for i in range(count)]
        elsewhere = [binding("//run/t", "roles/a", f"serviceAccount:m{i}") for i in range(100)]
        return {"management": gcp_layer(bindings=mine[:700] + elsewhere, management=True),
                "runtime": {"app": gcp_layer(bindings=mine[700:1400]), "worker": gcp_layer(bindings=mine[1400:])}}

    assert found(Platform.GCP, rendered(GCP_PRINCIPALS_PER_POLICY)) == []
    finding = one(Platform.GCP, rendered(GCP_PRINCIPALS_PER_POLICY + 1), Code.LIMIT_GCP_POLICY_MEMBERS)
    assert finding.blocks and "1501 bindings on //run/s" in finding.message


_CEL_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')


def cel_operators(expression: str) -> int:
    """Logical operators of a CEL expression (&&, ||, !), string literals left out."""
    return len(re.findall(r"&&|\|\||!(?!=)", _CEL_STRINGS.sub('""', expression)))


def expression(chars: int, name: str = "n", operators: int = 0) -> str:
    """A CEL condition of exactly ``chars`` characters with ``operators`` ``||`` in it."""
    head = " || ".join(['resource.name == "x"'] * operators) + (" || " if operators else "")
    text = f'{head}resource.name == "{name}"'
    text = text[:-1] + "x" * (chars - len(text)) + '"'
    assert len(text) == chars and cel_operators(text) == operators
    return text


def conditional(plan: PermissionPlan, expressions: list[str]) -> list[dict[str, Any]]:
    """The conditional bindings ``expressions`` render to, each a grant of the same actions on the project."""
    grants = [gcp_grant(i, ("datastore.databases.getMetadata",), "projects/acme-customer-prod",
                        {"title": f"alien kv k{i}", "expression": e}) for i, e in enumerate(expressions)]
    return [b for b in gcp_runtime(plan, grants)["runtime"]["app"]["bindings"] if b["condition"]]


def alternatives(bindings: list[dict[str, Any]], expressions: list[str]) -> list[str]:
    """Each expression found in the bindings' conditions (wrapped in parentheses when joined)."""
    out = []
    for b in bindings:
        text = b["condition"]["expression"]
        out += [e for e in expressions if text == e or f"({e})" in text]
    return out


def test_gcp_conditions_are_joined_up_to_exactly_12800_characters() -> None:
    plan = tiny_plan("gcp")
    # three alternatives joined: each in parentheses, " || " between them -> 3 * length + 6 + 8
    length = (GCP_CONDITION_CHARS - 14) // 3
    at = [expression(length, f"a{i}") for i in range(3)]
    [joined] = conditional(plan, at)
    assert len(joined["condition"]["expression"]) == 12_800
    assert sorted(alternatives([joined], at)) == sorted(at)
    past = [*at[:2], expression(length + 1, "a2")]
    bindings = conditional(plan, past)
    assert len(bindings) == 2 and all(len(b["condition"]["expression"]) <= 12_800 for b in bindings)
    assert sorted(alternatives(bindings, past)) == sorted(past)


@pytest.mark.parametrize(("inside", "per_binding"), [(0, 13), (1, 6), (2, 4), (5, 2), (12, 1)])
def test_gcp_conditions_are_joined_up_to_exactly_12_logical_operators(inside: int, per_binding: int) -> None:
    """Joining ``n`` conditions of ``inside`` operators each takes ``n * inside + n - 1``: at most 12."""
    plan = tiny_plan("gcp")
    at = [expression(400, f"a{i}", inside) for i in range(per_binding)]
    [joined] = conditional(plan, at)
    assert cel_operators(joined["condition"]["expression"]) == per_binding * inside + per_binding - 1 <= 12
    past = [*at, expression(400, "b", inside)]
    bindings = conditional(plan, past)
    assert len(bindings) == 2
    assert all(cel_operators(b["condition"]["expression"]) <= GCP_CONDITION_LOGICAL_OPERATORS for b in bindings)
    assert sorted(alternatives(bindings, past)) == sorted(past)


def test_gcp_operators_inside_string_literals_are_not_counted() -> None:
    plan = tiny_plan("gcp")
    named = [f'resource.name == "a||b&&c!{i}"' for i in range(13)]
    [joined] = conditional(plan, named)
    assert cel_operators(joined["condition"]["expression"]) == 12


def kv_stack(n: int) -> alien.StackSpec:
    stack = alien.Stack(f"kv-{n}").platforms("gcp")
    for i in range(n):
        stack.add(alien.Kv(f"k{i}"), "frozen")
    return stack.build()


def kv_render(n: int) -> dict[str, Any]:
    spec = kv_stack(n)
    return render_all(derive_plan(spec, alien.DeploymentContext.example_context("gcp", spec.name)))


def most_conditional(rendered: dict[str, Any]) -> int:
    counts = Counter((b["scope"], b["role"], b["member"]) for b in rendered["management"]["bindings"]
                     if b["condition"])
    return max(counts.values())


def test_gcp_a_stack_at_20_joined_bindings_sets_up_one_more_database_is_refused() -> None:
    """Each Firestore database is bound on the project by a condition on its name: the conditions are joined
    into as few bindings as a condition's limits allow, and a stack needing 21 is refused, not rendered into
    conditions GCP rejects. The smallest stack needing 21 is found by bisection."""
    low, high = 1, 200
    assert most_conditional(kv_render(low)) <= 20 < most_conditional(kv_render(high))
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if most_conditional(kv_render(middle)) <= 20 else (low, middle)
    at, past = kv_render(low), kv_render(high)
    assert (most_conditional(at), most_conditional(past)) == (20, 21)
    assert found(Platform.GCP, at) == []
    assert found(Platform.GCP, past) == [(Code.LIMIT_GCP_CONDITIONAL_BINDINGS, True)]
    for rendered, databases in ((at, low), (past, high)):
        conditions = [b["condition"]["expression"] for b in rendered["management"]["bindings"] if b["condition"]]
        assert all(len(c) <= GCP_CONDITION_CHARS and cel_operators(c) <= GCP_CONDITION_LOGICAL_OPERATORS
                   for c in conditions)
        # every database is still named, once, by a condition
        named = [name for c in conditions for name in re.findall(r'/databases/([a-z0-9-]+)"', c)]
        assert len(named) == len(set(named)) == databases


def test_gcp_role_ids_titles_and_descriptions_are_cut_to_their_limits_only_past_them() -> None:
    prefix = "tiny"
    fixed = len(f"alien_{prefix}_")
    at = gcp.role_id(prefix, "k" * (GCP_ROLE_ID_CHARS - fixed))
    assert len(at) == 64 and at == f"alien_{prefix}_" + "k" * (64 - fixed)
    past_key = "k" * (GCP_ROLE_ID_CHARS + 1 - fixed - 7) + "/abc123"  # a key ends with its hash
    assert len(f"alien_{prefix}_{past_key}") == 65
    past = gcp.role_id(prefix, past_key)
    assert len(past) == 64 and past.endswith("_abc123")  # the key's hash stays
    assert gcp.role_id(prefix, past_key.replace("abc123", "def456")) != past
    longer = gcp.role_id(prefix, "k" * 200 + "/abc123")
    assert len(longer) == 64 and longer.endswith("_abc123")

    plan = tiny_plan("gcp")
    bucket = "//storage.googleapis.com/projects/_/buckets/tiny-data"

    def rendered_role(set_chars: int, description_chars: int) -> dict[str, Any]:
        # title "alien tiny <set id>/<6 hex>": 18 characters besides the set id
        grant = gcp_grant(0, ("storage.buckets.get",), bucket, set_id="s" * set_chars,
                          description="d" * description_chars)
        [out] = gcp_runtime(plan, [grant])["runtime"]["app"]["roles"]
        return out

    at_role = rendered_role(GCP_ROLE_TITLE_CHARS - 18, GCP_ROLE_DESCRIPTION_CHARS)
    assert (len(at_role["title"]), at_role["description"]) == (100, "d" * 256)
    assert at_role["title"].startswith("alien tiny s") and at_role["title"][-7] == "/"  # whole
    past_role = rendered_role(GCP_ROLE_TITLE_CHARS - 17, GCP_ROLE_DESCRIPTION_CHARS + 1)
    assert (len(past_role["title"]), past_role["description"]) == (100, "d" * 256)
    assert len(past_role["id"]) <= GCP_ROLE_ID_CHARS


# Azure ---------------------------------------------------------------------------------------------------------

def azure_layer(assignments: range, roles: list[str] | None = None) -> dict[str, Any]:
    return {"assignments": [{"scope": f"/s/{i}"} for i in assignments],
            "role_definitions": [{"roleName": r} for r in roles or []]}


def azure(assignments: int, roles: int = 1) -> dict[str, Any]:
    """Assignments and role definitions spread over the management identity and two runtime profiles."""
    third = assignments // 3
    names = [f"alien tiny r{i}" for i in range(roles)]
    return {"management": azure_layer(range(third), names[: roles // 2]),
            "runtime": {"app": azure_layer(range(third, 2 * third), names[roles // 2:] + names[:1]),
                        "worker": azure_layer(range(2 * third, assignments))}}


def test_azure_assignments_warn_past_half_of_the_subscription_and_block_past_all_of_it() -> None:
    half = AZURE_ASSIGNMENTS_PER_SUBSCRIPTION // 2
    assert found(Platform.AZURE, azure(half)) == []
    assert found(Platform.AZURE, azure(half + 1)) == [(Code.LIMIT_AZURE_ROLE_ASSIGNMENTS, False)]
    at = one(Platform.AZURE, azure(AZURE_ASSIGNMENTS_PER_SUBSCRIPTION), Code.LIMIT_AZURE_ROLE_ASSIGNMENTS)
    assert not at.blocks and "4000 role assignments, 100%" in at.message
    past = one(Platform.AZURE, azure(AZURE_ASSIGNMENTS_PER_SUBSCRIPTION + 1), Code.LIMIT_AZURE_ROLE_ASSIGNMENTS)
    assert past.blocks and "4001 role assignments" in past.message


def test_azure_5000_custom_roles_pass_5001_are_refused() -> None:
    assert found(Platform.AZURE, azure(10, AZURE_CUSTOM_ROLES_PER_TENANT)) == []
    finding = one(Platform.AZURE, azure(10, AZURE_CUSTOM_ROLES_PER_TENANT + 1), Code.LIMIT_AZURE_CUSTOM_ROLES)
    assert finding.blocks and "defines 5001 custom roles" in finding.message


def gcp_all(roles: int = 300, permissions: int = 3_000, conditional: int = 20, principals: int = 1_500
            ) -> dict[str, Any]:
    """A GCP deployment at (or past) every limit at once: ``roles`` custom roles with the impersonation role, one
    of ``permissions``; ``conditional`` bindings of one role and member on the project, whose policy holds
    ``principals`` in all."""
    custom = [role("big", permissions), *(role(f"r{i}") for i in range(roles - 2))]
    bindings = [binding("projects/p", "big", "serviceAccount:m", i) for i in range(conditional)] + [
        binding("projects/p", "r0", f"serviceAccount:m{i}") for i in range(principals - conditional)]
    return {"management": gcp_layer(custom[:150], bindings[:750], management=True),
            "runtime": {"app": gcp_layer(custom[150:], bindings[750:])}}


def test_the_preflight_reports_every_limit_it_knows_at_one_past_and_none_at_the_limit() -> None:
    """One rendered deployment per cloud exactly at every limit at once, then each limit one past on its own:
    exactly that limit's finding, so no check hides another."""
    aws_at = {"management": aws_role(10, 6_144, 2_048), "runtime": {"app": aws_role(10, 6_144, 2_048)}}
    assert found(Platform.AWS, aws_at) == []
    for code, past in ((Code.LIMIT_AWS_MANAGED_POLICIES, aws_role(11, 6_144, 2_048)),
                       (Code.LIMIT_AWS_POLICY_SIZE, aws_role(10, 6_145, 2_048)),
                       (Code.LIMIT_AWS_TRUST_POLICY_SIZE, aws_role(10, 6_144, 2_049))):
        findings = limit_findings(Platform.AWS, {**aws_at, "management": past})
        assert {f.code for f in findings} == {code}, code
    gcp_at = gcp_all()
    assert found(Platform.GCP, gcp_at) == []
    for code, past in ((Code.LIMIT_GCP_CUSTOM_ROLES, gcp_all(roles=301)),
                       (Code.LIMIT_GCP_ROLE_PERMISSIONS, gcp_all(permissions=3_001)),
                       (Code.LIMIT_GCP_CONDITIONAL_BINDINGS, gcp_all(conditional=21)),
                       (Code.LIMIT_GCP_POLICY_MEMBERS, gcp_all(principals=1_501))):
        assert {c for c, _ in found(Platform.GCP, past)} == {code}, code
    azure_at = azure(2_000, 5_000)
    assert found(Platform.AZURE, azure_at) == []
    assert {c for c, _ in found(Platform.AZURE, azure(2_000, 5_001))} == {Code.LIMIT_AZURE_CUSTOM_ROLES}


def test_the_provisioning_layer_is_not_counted() -> None:
    """The admin's own document is attached to no identity setup creates: it may be over any limit."""
    rendered = {"provisioning": aws_role(30, 7_000, 3_000), "management": aws_role(), "runtime": {}}
    assert found(Platform.AWS, rendered) == []


def test_the_real_renderer_never_crosses_a_limit_for_a_packed_500_resource_stack() -> None:
    """Every layer of a 500-resource stack, measured against the limits themselves (not the preflight)."""
    spec = stack_of(500)
    for platform in Platform:
        rendered = render_all(derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name)))
        layers = [rendered["management"], *rendered["runtime"].values()]
        if platform is Platform.AWS:
            for layer in layers:
                assert len(layer["policies"]) <= AWS_MANAGED_POLICIES_PER_ROLE
                assert all(sent(d) <= AWS_MANAGED_POLICY_CHARS for d in layer["policies"])
                assert sent(layer["trust_policy"]) <= AWS_TRUST_POLICY_CHARS
        elif platform is Platform.GCP:
            roles = {r["id"]: r["permissions"] for layer in layers for r in layer["roles"] if r["permissions"]}
            roles[rendered["management"]["impersonation"]["custom_role"]["id"]] = ["x"]
            assert len(roles) <= GCP_CUSTOM_ROLES_PER_PROJECT
            assert all(len(p) <= GCP_PERMISSIONS_PER_ROLE for p in roles.values())
            assert all(len(r["id"]) <= GCP_ROLE_ID_CHARS and len(r["title"]) <= GCP_ROLE_TITLE_CHARS
                       and len(r["description"]) <= GCP_ROLE_DESCRIPTION_CHARS for layer in layers
                       for r in layer["roles"])
            bindings = [b for layer in layers for b in layer["bindings"]]
            assert max(Counter(b["scope"] for b in bindings).values()) <= GCP_PRINCIPALS_PER_POLICY
            conditional = Counter((b["scope"], b["role"], b["member"]) for b in bindings if b["condition"])
            assert max(conditional.values()) <= GCP_CONDITIONAL_BINDINGS_PER_ROLE_MEMBER
            assert all(len(b["condition"]["expression"]) <= GCP_CONDITION_CHARS
                       and cel_operators(b["condition"]["expression"]) <= GCP_CONDITION_LOGICAL_OPERATORS
                       for b in bindings if b["condition"])
        else:
            assert sum(len(layer["assignments"]) for layer in layers) <= AZURE_ASSIGNMENTS_PER_SUBSCRIPTION // 2
            assert len({d["roleName"] for layer in layers for d in layer["role_definitions"]}) <= \
                AZURE_CUSTOM_ROLES_PER_TENANT

