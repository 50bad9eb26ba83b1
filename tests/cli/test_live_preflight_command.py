"""``alien-pulumi preflight STACK -d NAME --live`` through the CLI: the deployment's record from the registry, the
cloud asked through the one client factory (here boto3's IAM client under botocore's Stubber, recorded answers),
human and ``--json`` output (one JSON document in every outcome), exit 3 when the cloud's answer blocks, and clear
refusals of an unknown deployment or one without a setup record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from alien_pulumi.fleet import service
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.preflight.live import LiveClients
from tests.cli.helpers import run
from tests.conftest import ROOT
from tests.preflight.test_live import ROLE, context, iam_client, simulator

QUICKSTART = ROOT / "examples" / "my_app.py"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """``acme``: set up on AWS (its record names the management role); ``beta``: registered, awaiting setup."""
    import alien_pulumi as alien

    spec = alien.load_stack(QUICKSTART)
    ctx = context("aws")
    record = ReleaseRecord(release="r1", deployment="acme", program="provision", context=ctx, spec=spec,
                           digest=spec.digest(), frozen_digest=spec.frozen_digest(),
                           permissions=render_all(derive_plan(spec, ctx)),
                           outputs={"management_identity": {"role_arn": ROLE}})
    with Registry(tmp_path) as reg:
        reg.add_deployment(record)
        reg.register_deployment("beta", ctx.model_copy(update={"prefix": "beta"}), {"backend": None})
    return tmp_path


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The management identity's IAM client, answering from ``deny`` (action prefix -> evaluation fields)."""
    deny: dict[str, dict[str, Any]] = {}
    iam = iam_client()
    stub: Stubber = simulator(iam, lambda a, r: next((v for k, v in deny.items() if a.startswith(k)), {}))
    stub.activate()
    seen: list[str] = []

    def clients(deployment: Any, scratch: Path, environ: Any = None) -> LiveClients:
        seen.append(deployment.name)
        return LiveClients(aws_iam=iam)

    monkeypatch.setattr(service, "live_clients", clients)
    yield {"deny": deny, "seen": seen}
    stub.deactivate()


def test_live_preflight_that_the_cloud_allows_may_roll_out(registry: Path, cloud: dict[str, Any]) -> None:
    result = run("preflight", str(QUICKSTART), "-d", "acme", "--live", "--state-dir", str(registry))
    assert result.exit_code == 0, result.output
    assert "may roll out" in result.stdout and "checked as the management identity of acme" in result.stdout
    data = json.loads(run("preflight", str(QUICKSTART), "-d", "acme", "--live", "--state-dir", str(registry),
                          "--json").stdout)
    assert data["may_roll_out"] is True and data["deployment"] == "acme"
    assert data["live"]["denied"] == 0 and data["live"]["checked"] > 0 and data["live"]["calls"] > 0
    assert cloud["seen"] == ["acme", "acme"]


def test_an_scp_denial_blocks_with_exit_3_naming_resource_permission_set_and_setup(registry: Path,
                                                                                    cloud: dict[str, Any]) -> None:
    cloud["deny"]["lambda:UpdateFunctionCode"] = {
        "EvalDecision": "explicitDeny", "OrganizationsDecisionDetail": {"AllowedByOrganizations": False}}
    human = run("preflight", str(QUICKSTART), "-d", "acme", "--live", "--state-dir", str(registry))
    assert human.exit_code == 3
    assert "LIVE_PERMISSION_DENIED" in human.stdout and "blocked" in human.stdout
    result = run("preflight", str(QUICKSTART), "-d", "acme", "--live", "--state-dir", str(registry), "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["may_roll_out"] is False and data["live"]["denied"] == 1
    (finding,) = [f for f in data["findings"] if f["code"] == "LIVE_PERMISSION_DENIED"]
    assert finding["blocks"] and finding["needs_setup"] and finding["resource"] == "api"
    assert finding["field"] == "lambda:UpdateFunctionCode"
    assert "service control policy" in finding["message"] and "function/management" in finding["message"]
    assert "alien-deploy up" in finding["message"]


def test_without_live_the_deployments_record_is_the_deployed_side_and_the_cloud_is_not_asked(
        registry: Path, cloud: dict[str, Any]) -> None:
    data = json.loads(run("preflight", str(QUICKSTART), "-d", "acme", "--state-dir", str(registry), "--json").stdout)
    assert data["may_roll_out"] is True and "live" not in data and cloud["seen"] == []


@pytest.mark.parametrize(("name", "says"), [("nobody", "no deployment named 'nobody'"),
                                            ("beta", "deployment beta has no release record")])
def test_unknown_or_not_set_up_deployments_are_refused_by_name(registry: Path, cloud: dict[str, Any], name: str,
                                                                says: str) -> None:
    human = run("preflight", str(QUICKSTART), "-d", name, "--live", "--state-dir", str(registry))
    assert human.exit_code == 2 and says in human.stderr and "Traceback" not in human.stderr
    result = run("preflight", str(QUICKSTART), "-d", name, "--live", "--state-dir", str(registry), "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert says in error["message"] and error["exit_code"] == 2
    assert cloud["seen"] == []


@pytest.mark.parametrize("args", [("--live",), ("-d", "acme", "--against", str(QUICKSTART)), ()])
def test_live_needs_one_deployment_and_nothing_else(registry: Path, args: tuple[str, ...]) -> None:
    result = run("preflight", str(QUICKSTART), *args, "--state-dir", str(registry), "--json")
    assert result.exit_code == 2
    assert "--deployment" in json.loads(result.stdout)["error"]["message"]


def test_the_default_factory_signs_in_from_the_management_runs_environment(tmp_path: Path) -> None:
    """service.live_clients through the real management_environment: an Azure deployment's check signs in as its
    management identity (client id, tenant, the vendor's OIDC token in a private file), nothing of the caller's."""
    from alien_pulumi.fleet.registry import Deployment

    tenant = "99999999-0000-4000-8000-000000000000"
    dep = Deployment(name="acme", platform=context("azure").platform, context=context("azure"),
                     management={"client_id": "mgmt-client", "tenant_id": tenant}, record=None, updated_at="")
    clients = service.live_clients(dep, tmp_path, {"ALIEN_AZURE_OIDC_TOKEN": "vendor-jwt",
                                                   "AZURE_CLIENT_ID": "the-callers-own", "PATH": "/bin"})
    client = clients.azure_authorization(dep.context.scope_id)  # type: ignore[misc]
    credential = client._config.credential
    assert type(credential).__name__ == "WorkloadIdentityCredential"
    assert (credential._client._client_id, credential._client._tenant_id) == ("mgmt-client", tenant)
    assert Path(credential._token_file_path).read_text() == "vendor-jwt"
    assert Path(credential._token_file_path).parent == tmp_path


def test_a_platform_other_than_the_deployments_is_refused(registry: Path) -> None:
    result = run("preflight", str(QUICKSTART), "-d", "acme", "-p", "gcp", "--state-dir", str(registry), "--json")
    assert result.exit_code == 2
    assert "deployment acme is on aws, not gcp" in json.loads(result.stdout)["error"]["message"]
