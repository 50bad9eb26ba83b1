"""What joins a run to the customer's own audit logs (DESIGN.md §3): who the run acted as, on whose behalf,
and when. The run record keeps it (``RunResult.attribution``).

AWS names the release in every CloudTrail event of the session (its ``sts:SourceIdentity``). GCP and Azure
have no such field for a federated or impersonated caller: their logs name the management identity (GCP also
the vendor's account, as the delegation's first principal), so a release is found by that principal and the
run's time window. The Pulumi engine's events carry no cloud request or correlation ids, so none are kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.types import Platform


def attribution(ctx: DeploymentContext, management: Mapping[str, str], release: str, deployment: str
                ) -> dict[str, str]:
    """The principal a management run acts as, and what the customer's logs show of it (without times)."""
    from alien_pulumi.automation.credentials import management_role_arn, session_name

    if ctx.platform is Platform.AWS:
        # CloudTrail: userIdentity.arn ends in the session name; sessionContext.sourceIdentity is the release.
        return {"principal": management_role_arn(ctx, management), "session": session_name(release, deployment),
                "source_identity": release}
    if ctx.platform is Platform.GCP:
        # Cloud Audit Logs: authenticationInfo.principalEmail is the management account, and
        # serviceAccountDelegationInfo[].firstPartyPrincipal.principalEmail the vendor's account.
        return {"principal": management.get("service_account") or ctx.identity("management"),
                "delegated_by": ctx.principal}
    # Activity log: the caller is the managed identity (claims.appid = its client id); the federated sign-in is in
    # Entra ID's managed-identity sign-in logs.
    return {"principal": management.get("client_id", ""), "federated_subject": ctx.principal,
            "federated_issuer": ctx.vendor_oidc_issuer or ""}
