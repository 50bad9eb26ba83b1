"""Names and regions validated (issue 24, item 5): physical names that one cloud's naming rules make one are a
validation error naming both resources; a deployment name is never a path, in any model that carries one or any
command that takes one; a region is one its cloud has, or the error names the flag and the closest known ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

import alien_pulumi as alien
from alien_pulumi.cli.main import app as vendor_app
from alien_pulumi.deploy.bundle import SetupBundle, new_bundle
from alien_pulumi.deploy.request import DeployedRef, SetupRequest, SetupRequestError, read_request, read_setup_record
from alien_pulumi.errors import AlienError, ContextError, StackLoadError
from alien_pulumi.model.context import PREFIX, DeploymentContext
from alien_pulumi.model.deployment_name import (
    DEPLOYMENT_NAME,
    DeploymentNameError,
    check_deployment_name,
    deployment_name_problem,
)
from alien_pulumi.model.naming import identity_name, resource_names
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.regions import KNOWN_REGIONS, RETIRED, closest_regions
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.model.validation import SAMPLE_PREFIXES

ROLE = "arn:aws:iam::111122223333:role/alien-release"
# What every refused deployment name is told (one line, after where the name came from and the name).
RULE = "use 1-63 lowercase letters, digits and '-', starting with a letter and not ending with '-'"
AWS_FACTS = {"account_id": "210987654321", "region": "eu-west-1", "vendor_principal": ROLE, "external_id": "e" * 43}


def problems_of(stack: alien.Stack | dict[str, Any]) -> list[str]:
    with pytest.raises(alien.StackValidationError) as info:
        stack.build() if isinstance(stack, alien.Stack) else alien.parse_spec(stack)
    return [str(p) for p in info.value.problems]


def collision(platform: str, first: str, second: str, kind: ResourceType, prefix: str = "x", key: str = "name",
              what: str | None = None) -> str:
    """The line a collision reads as, its name derived by the project's own naming (never a copy of the rules)."""
    name = resource_names(Platform(platform), kind, prefix, first)[key]
    assert name == resource_names(Platform(platform), kind, prefix, second)[key]
    return (f"{second}.id: on {platform}, {first!r} and {second!r} both become the {what} {name!r} (prefix "
            f"{prefix!r}) after the cloud's naming rules: rename one")


# --- physical-name collisions ------------------------------------------------------------------------------------


def test_a_trailing_hyphen_is_the_same_bucket_on_every_declared_platform() -> None:
    stack = alien.Stack("s").platforms("aws", "gcp", "azure").add(alien.Storage("data"), "frozen") \
        .add(alien.Storage("data-"), "frozen")
    assert problems_of(stack) == [
        collision("aws", "data", "data-", ResourceType.STORAGE, what="S3 bucket"),
        collision("gcp", "data", "data-", ResourceType.STORAGE, what="GCS bucket"),
        collision("azure", "data", "data-", ResourceType.STORAGE, what="storage account"),
    ]
    assert "data-.id: on aws, 'data' and 'data-' both become the S3 bucket 'x-data'" in problems_of(stack)[0]


def test_azure_storage_account_names_drop_hyphens_so_data_x_and_datax_collide_there_only() -> None:
    def stack(*platforms: str) -> alien.Stack:
        return alien.Stack("s").platforms(*platforms).add(alien.Storage("data-x"), "frozen") \
            .add(alien.Storage("datax"), "frozen")

    assert problems_of(stack("aws", "azure")) == [
        collision("azure", "data-x", "datax", ResourceType.STORAGE, what="storage account")]
    assert problems_of(stack("azure"))[0].endswith("'xdatax' (prefix 'x') after the cloud's naming rules: rename one")
    assert stack("aws", "gcp").build().name == "s"  # S3 and GCS keep the hyphen: two buckets


def test_an_azure_storage_and_kv_share_the_storage_account_namespace() -> None:
    stack = alien.Stack("s").platforms("azure").add(alien.Storage("data-x"), "frozen").add(alien.Kv("datax"), "frozen")
    assert problems_of(stack) == [collision("azure", "data-x", "datax", ResourceType.STORAGE, what="storage account")]


@pytest.mark.parametrize(
    ("platform", "resource", "rid", "what"),
    [("gcp", alien.Kv, "a", "Firestore database"), ("azure", alien.Queue, "ab", "Service Bus namespace")],
)
def test_short_names_a_one_letter_prefix_would_pad_are_checked_with_a_longer_prefix(
        platform: str, resource: Any, rid: str, what: str) -> None:
    # With prefix "x" these names are shorter than the rule's minimum and each gets a hash of its own; with a longer
    # prefix (a real one such as "acme-app") they are one name.
    kind = {alien.Kv: ResourceType.KV, alien.Queue: ResourceType.QUEUE}[resource]
    padded = [resource_names(Platform(platform), kind, "x", i)["name"] for i in (rid, f"{rid}-")]
    assert padded[0] != padded[1]
    stack = alien.Stack("s").platforms(platform).add(resource(rid), "frozen").add(resource(f"{rid}-"), "frozen")
    assert problems_of(stack) == [collision(platform, rid, f"{rid}-", kind, prefix=SAMPLE_PREFIXES[1], what=what)]


def test_runtime_profiles_whose_identities_are_one_are_refused(spec: alien.StackSpec) -> None:
    data = spec.model_dump(mode="json")
    data["permissions"]["profiles"]["app-"] = data["permissions"]["profiles"]["app"]
    found = problems_of(data)
    role = identity_name(Platform.AWS, "x", "rt-app")
    assert found[0] == (f"permissions.profiles.app-: on aws, 'app' and 'app-' both become the runtime IAM role "
                        f"{role!r} (prefix 'x') after the cloud's naming rules: rename one")
    assert len(found) == 3 and all("'app' and 'app-'" in line for line in found)


def test_resources_with_field_problems_are_checked_too_and_distinct_names_stay_valid() -> None:
    stack = alien.Stack("s").platforms("aws").add(alien.Storage("data", retention_days=0), "frozen") \
        .add(alien.Storage("data-"), "frozen")
    assert problems_of(stack)[-1].startswith("data-.id: on aws, 'data' and 'data-' both become the S3 bucket")
    alien.Stack("s").platforms("aws", "gcp", "azure").add(alien.Storage("data"), "frozen") \
        .add(alien.Storage("data-2"), "frozen").add(alien.Kv("data-3"), "frozen").build()


def test_alien_pulumi_validate_lists_the_collision_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "stack.py"
    path.write_text("import alien_pulumi as alien\n"
                    "stack = alien.Stack('s').platforms('azure').add(alien.Storage('data-x'), 'frozen')"
                    ".add(alien.Storage('datax'), 'frozen').build()\n")
    result = CliRunner().invoke(vendor_app, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert collision("azure", "data-x", "datax", ResourceType.STORAGE, what="storage account") in result.stderr


# --- deployment names --------------------------------------------------------------------------------------------

BAD_NAMES = ["../y", "../../etc/passwd", "../../etc/x", "/etc/x", "a/b", "a\\b", ".", "..", "", "Acme", "my_app",
             "-acme", "acme-", "1acme", "a b", "acme\n", "a" * 64]


@pytest.mark.parametrize("name", ["acme", "my-app", "a", "d1", "acme-2", "acme-eu", "a" * 63])
def test_deployment_names_of_letters_digits_and_hyphens_pass(name: str) -> None:
    assert check_deployment_name(name, "the NAME argument") == name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_anything_else_is_refused_in_one_line_naming_where_it_came_from(name: str) -> None:
    with pytest.raises(DeploymentNameError) as info:
        check_deployment_name(name, "--deployment")
    assert isinstance(info.value, ContextError) and isinstance(info.value, AlienError)
    message = str(info.value)
    assert message == f"--deployment: {name!r} is not a deployment name: {RULE}"
    assert "\n" not in message


@given(st.from_regex(PREFIX, fullmatch=True))
def test_every_prefix_is_a_deployment_name(prefix: str) -> None:
    # a deployment named after its prefix (alien-deploy up without a bundle) always has a valid name
    assert deployment_name_problem(prefix) is None


def aws_context() -> DeploymentContext:
    return DeploymentContext.create("aws", "acme", **AWS_FACTS)


def tampered(path: Path, **changes: Any) -> Path:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


def test_a_bundle_naming_a_path_as_its_deployment_is_refused(tmp_path: Path) -> None:
    bundle = SetupBundle(deployment="acme", platform=Platform.AWS, context=aws_context().facts())
    bundle.write(tmp_path / "acme.bundle.json")
    assert SetupBundle.read(tmp_path / "acme.bundle.json").deployment == "acme"
    path = tampered(tmp_path / "acme.bundle.json", deployment="../../etc/x")
    with pytest.raises(ContextError) as info:
        SetupBundle.read(path)
    assert str(info.value) == f"{path}: not a setup bundle: deployment: '../../etc/x' is not a deployment name: {RULE}"
    with pytest.raises(ValidationError):
        SetupBundle(deployment="../y", platform=Platform.AWS, context={})


def test_new_bundle_refuses_a_path_before_anything_else() -> None:
    flags = {k: v for k, v in AWS_FACTS.items()} | {"prefix": "acme"}
    with pytest.raises(DeploymentNameError, match=r"^the NAME argument: '\.\./y' is not a deployment name"):
        new_bundle("../y", Platform.AWS, flags)
    assert new_bundle("acme", Platform.AWS, flags)[0].deployment == "acme"


def test_deployments_new_with_a_path_writes_no_bundle_and_registers_nothing(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = CliRunner().invoke(vendor_app, [
        "deployments", "new", "../y", "-p", "aws", "--prefix", "acme", "--account-id", AWS_FACTS["account_id"],
        "--region", "eu-west-1", "--vendor-principal", ROLE, "--state-dir", str(tmp_path / "state")],
        catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"error: the NAME argument: '../y' is not a deployment name: {RULE}"]
    assert not (tmp_path / "y.bundle.json").exists() and not list(tmp_path.rglob("*.bundle.json"))


def record(deployment: str = "acme") -> ReleaseRecord:
    spec = alien.Stack("acme").platforms("aws").add(alien.Storage("data"), "frozen").build()
    return ReleaseRecord(release="setup-1", deployment=deployment, program="provision", context=aws_context(),
                         spec=spec, digest=spec.digest(), frozen_digest=spec.frozen_digest(), permissions={})


def test_a_release_record_naming_a_path_as_its_deployment_is_refused(tmp_path: Path) -> None:
    text = record().model_dump_json()
    assert ReleaseRecord.from_json(text, "acme.json").deployment == "acme"
    bad = json.dumps({**json.loads(text), "deployment": "../../etc/passwd"})
    with pytest.raises(StackLoadError) as info:
        ReleaseRecord.from_json(bad, "acme.json")
    assert str(info.value) == f"acme.json: not a release record: deployment: '../../etc/passwd' is not a deployment " \
                              f"name: {RULE}"
    (tmp_path / "acme.json").write_text(bad)
    with pytest.raises(SetupRequestError) as refused:
        read_setup_record(tmp_path / "acme.json")
    assert str(refused.value) == f"{tmp_path / 'acme.json'}: not a setup record: deployment: '../../etc/passwd' is " \
                                 f"not a deployment name: {RULE}"
    with pytest.raises(ValidationError):
        record("../x")
    assert ReleaseRecord.model_json_schema()["properties"]["deployment"]["pattern"] == DEPLOYMENT_NAME.pattern


def test_a_setup_request_naming_a_path_as_its_deployment_is_refused(tmp_path: Path) -> None:
    ref = DeployedRef(release="setup-1", digest="d" * 64, frozen_digest="f" * 64)
    request = SetupRequest(id="sr-1", deployment="acme", platform=Platform.AWS, release="r2",
                           created_at="2026-12-07T10:00:00+00:00", deployed=ref, setup=ref, permissions=[],
                           frozen_changes=[], resources=[], reasons=[], stack={}, digest="0" * 64)
    path = tmp_path / "request.json"
    request.write(path)
    tampered(path, deployment="../../etc/x")
    with pytest.raises(SetupRequestError) as info:
        read_request(path)
    assert str(info.value) == f"{path}: malformed setup request: deployment: '../../etc/x' is not a deployment " \
                              f"name: {RULE}"


# --- regions -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "region", "suggested"),
    [
        ("aws", "eu-west-9", "did you mean eu-west-3, eu-west-2 or eu-west-1?"),
        ("gcp", "europe-west99", "did you mean europe-west9,"),
        ("azure", "westeurop", "did you mean westeurope"),
        ("azure", "narnia", "e.g. eastus or westeurope"),
    ],
)
def test_an_unknown_region_is_refused_naming_the_flag_and_the_closest_known_ones(platform: str, region: str,
                                                                                 suggested: str) -> None:
    with pytest.raises(ContextError) as info:
        DeploymentContext.from_fields(platform, "acme", {"region": region}, naming="flag", example=True)
    (problem,) = info.value.problems
    assert problem.field == "--region" and "\n" not in problem.message
    label = {"aws": "AWS region", "gcp": "GCP region", "azure": "Azure location"}[platform]
    assert problem.message.startswith(f"{region!r} is not a known {label}")
    assert suggested in problem.message


def test_a_region_of_no_cloud_form_is_refused_too() -> None:
    for platform in ("aws", "gcp"):
        with pytest.raises(ContextError, match=r"--region: 'narnia' is not an? (AWS|GCP) region"):
            DeploymentContext.from_fields(platform, "acme", {"region": "narnia"}, naming="flag", example=True)
    with pytest.raises(ContextError, match=r"region: 'eu-west-9' is not a known AWS region"):
        DeploymentContext.create("aws", "acme", **{**AWS_FACTS, "region": "eu-west-9"})


@pytest.mark.parametrize(
    ("platform", "region"),
    [("aws", "eu-west-1"), ("aws", "us-east-1"), ("aws", "eu-central-1"), ("gcp", "europe-west1"),
     ("gcp", "europe-west4"), ("gcp", "us-central1"), ("azure", "westeurope"), ("azure", "eastus"),
     ("azure", "swedencentral")],
)
def test_the_regions_the_suite_uses_are_known(platform: str, region: str) -> None:
    assert DeploymentContext.example_context(platform, "acme", region=region).region == region


def test_every_known_region_makes_a_context_and_aws_regions_their_partition() -> None:
    for platform, regions in KNOWN_REGIONS.items():
        for region in sorted(regions):
            ctx = DeploymentContext.example_context(platform, "acme", region=region)
            assert ctx.region == region and ctx.example
            if platform is Platform.AWS:
                assert ctx.vendor_principal.startswith(f"arn:{ctx.partition}:iam::")
    assert DeploymentContext.create("aws", "acme", **{**AWS_FACTS, "region": "eu-central-2"}).partition == "aws"


@pytest.mark.parametrize("platform", list(Platform))
def test_example_contexts_keep_working(platform: Platform) -> None:
    ctx = DeploymentContext.example_context(platform, "acme")
    assert ctx.example and ctx.region in KNOWN_REGIONS[platform]


def test_an_example_context_on_another_aws_partition_is_well_formed() -> None:
    # an offline context of a GovCloud or China deployment: the example role is in its partition
    gov = DeploymentContext.example_context("aws", "acme", region="us-gov-west-1")
    assert gov.partition == "aws-us-gov" and gov.vendor_principal.startswith("arn:aws-us-gov:iam::")
    china = DeploymentContext.example_context("aws", "acme", partition="aws-cn")
    assert china.region in {"cn-north-1", "cn-northwest-1"} and china.vendor_principal.startswith("arn:aws-cn:")


def test_the_aws_list_has_every_region_the_installed_botocore_knows() -> None:
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("partitions")
    botocore_regions = {r for p in data["partitions"] for r in p["regions"] if not r.endswith("-global")}
    assert botocore_regions - KNOWN_REGIONS[Platform.AWS] == set(), "add the new regions to model/regions.py"


def test_the_azure_list_has_every_region_azure_identity_names() -> None:
    from azure.identity._enums import RegionalAuthority  # not exported: the list regions.py names as its source

    named = {r.value for r in RegionalAuthority} - {RegionalAuthority.AUTO_DISCOVER_REGION.value} - RETIRED
    assert named - KNOWN_REGIONS[Platform.AZURE] == set()
    assert not RETIRED & KNOWN_REGIONS[Platform.AZURE]


def test_closest_regions_are_known_ones() -> None:
    assert closest_regions(Platform.GCP, "europe-west99")[0] == "europe-west9"
    assert closest_regions(Platform.AZURE, "narnia") == []


def test_the_registry_registers_no_deployment_whose_name_is_a_path(tmp_path: Path) -> None:
    from alien_pulumi.errors import ContextError
    from alien_pulumi.fleet.registry import Registry

    ctx = alien.DeploymentContext.example_context("aws", "s")
    with Registry(tmp_path) as registry:
        with pytest.raises(ContextError, match=r"the deployment name: '\.\./y' is not a deployment name"):
            registry.register_deployment("../y", ctx, {})
        assert registry.list_deployments() == []
