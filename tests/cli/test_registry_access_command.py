"""``alien-pulumi registry-access``: the vendor's side of image pulls for one deployment, human and JSON, from the
registry (-d) or from a stack and context flags (offline; the example context says so)."""

from __future__ import annotations

import json
from pathlib import Path

from alien_pulumi.fleet.registry import Registry
from tests.artifacts import artifact
from tests.cli.helpers import run, run_json
from tests.conftest import ROOT
from tests.deploy.lifecycle import SHARED_STATE, VENDOR_ROLE, VENDOR_SA, admin, vendor

QUICKSTART = str(ROOT / "examples" / "my_app.py")
VENDOR_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
# A customer in the vendor's ECR region (Lambda pulls ECR images of its own region only).
EXTERNAL_ID = ("--external-id", "x" * 43)
AWS = ("--account-id", "444455556666", "--region", "us-east-1", "--vendor-principal", VENDOR_ROLE, *EXTERNAL_ID)
GCP = ("--project", "cust-prod-1", "--region", "us-central1", "--vendor-principal", VENDOR_SA)


def test_aws_statements_name_the_customer_account_functions_and_roles() -> None:
    data = run_json("registry-access", QUICKSTART, "-p", "aws", *AWS, "--prefix", "acme")
    assert data["example_context"] is False and data["problems"] == []
    by_repo = {g["repository"]: g for g in data["grants"]}
    assert set(by_repo) == {"acme/api", "acme/web"}
    api = by_repo["acme/api"]["document"]["Statement"]
    assert api[0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert api[0]["Condition"]["StringLike"]["aws:SourceArn"] == [
        "arn:aws:lambda:us-east-1:444455556666:function:acme-api"]
    assert api[1]["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}
    assert not {a for s in api for a in s["Action"]} - {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    [web] = by_repo["acme/web"]["document"]["Statement"]
    assert web["Principal"] == {"AWS": "arn:aws:iam::444455556666:role/acme-rt-app"}
    assert "ecr:PutImage" not in web["Action"]
    assert len({s["Sid"] for g in data["grants"] for s in g["document"]["Statement"]}) == 3


def test_regional_location_follows_the_deployment(tmp_path: Path) -> None:
    other = ("--account-id", "444455556666", "--region", "eu-west-1", "--vendor-principal", VENDOR_ROLE, *EXTERNAL_ID)
    data = run_json("registry-access", QUICKSTART, "-p", "aws", *other)
    assert {g["registry"] for g in data["grants"]} == {"111122223333.dkr.ecr.eu-west-1.amazonaws.com"}
    assert data["problems"] == []


def test_lambda_in_another_region_than_the_repository_is_a_problem(tmp_path: Path) -> None:
    stack = tmp_path / "stack.py"
    stack.write_text(Path(QUICKSTART).read_text().replace("{region}", "us-east-1"))
    other = ("--account-id", "444455556666", "--region", "eu-west-1", "--vendor-principal", VENDOR_ROLE, *EXTERNAL_ID)
    result = run("registry-access", str(stack), "-p", "aws", *other)
    assert result.exit_code == 3
    assert "Lambda pulls ECR images of its own region only" in result.stdout


def test_example_context_says_so(tmp_path: Path) -> None:
    result = run("registry-access", QUICKSTART, "-p", "aws")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("example context")
    assert run_json("registry-access", QUICKSTART, "-p", "aws")["example_context"] is True


def test_gcp_binding_for_the_cloud_run_service_agent(tmp_path: Path) -> None:
    stack = tmp_path / "stack.py"
    stack.write_text(Path(QUICKSTART).read_text().replace(
        'alien.Registry("ghcr.io/acme", aws=', 'alien.Registry("us-docker.pkg.dev/vendor-prod/acme", aws='))
    data = run_json("registry-access", str(stack), "-p", "gcp", *GCP, "--project-number", "987654321098")
    [grant] = data["grants"]
    assert grant["repository"] == "vendor-prod/acme" and grant["resources"] == ["api", "web"]
    member = "serviceAccount:service-987654321098@serverless-robot-prod.iam.gserviceaccount.com"
    assert grant["document"] == {"bindings": [{"role": "roles/artifactregistry.reader", "members": [member]}]}
    assert "--location=us" in grant["command"] and "add-iam-policy-binding acme" in grant["command"]
    missing = run("registry-access", str(stack), "-p", "gcp", *GCP)
    assert missing.exit_code == 2 and "project_number" in missing.stderr


def test_mirrored_images_need_anonymous_pull_only() -> None:
    data = run_json("registry-access", QUICKSTART, "-p", "gcp", *GCP, "--project-number", "987654321098")
    assert data["grants"] == []
    assert {p["resource"] for p in data["public"]} == {"api", "web"}


def test_from_the_registry(tmp_path: Path) -> None:
    bundle = tmp_path / "acme.bundle.json"
    assert vendor("deployments", "new", "acme", "-p", "aws", *AWS, "--out", str(bundle), "--state-dir",
                  str(tmp_path)).exit_code == 0
    assert admin("up", str(artifact(Path(QUICKSTART))), "--bundle", str(bundle), "--yes", "--engine", "simulated:1",
                 "--state-dir", str(tmp_path), *SHARED_STATE).exit_code == 0
    assert vendor("deployments", "add", str(tmp_path / "records" / "acme.json"), "--state-dir",
                  str(tmp_path)).exit_code == 0
    assert Registry(tmp_path).get_deployment("acme").context.account_id == "444455556666"
    result = run("registry-access", "-d", "acme", "--state-dir", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["deployment"] == "acme" and data["example_context"] is False
    assert any("arn:aws:iam::444455556666:root" in json.dumps(g["document"]) for g in data["grants"])
    both = run("registry-access", "-d", "acme", "-p", "aws", "--state-dir", str(tmp_path))
    assert both.exit_code == 2
