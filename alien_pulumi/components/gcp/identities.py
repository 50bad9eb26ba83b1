"""GCP Identities (DESIGN.md §3): the management service account, one runtime service account per profile,
the custom roles of both layers, and the vendor's impersonation binding on the management account.

Everything here comes from the rendered layers (render_layer), so what the customer reviews is what is
created. The bindings of those roles need the resources to exist: they are placed by the Grants component.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.permissions.render import render_layer
from alien_pulumi.permissions.render.gcp import management_description

MANAGEMENT = "management"


def runtime_key(profile: str) -> str:
    """The identity key of a runtime profile (DeploymentContext.identity names it ``rt-<profile>``)."""
    return f"rt-{profile}"


def account_id(email: str) -> str:
    """A service account's id is the part of its email before '@' (naming.py fits it to GCP's rules)."""
    return email.split("@", 1)[0]


class Identities(AlienComponent):
    cloud = Platform.GCP
    type_name = "Identities"
    protected = False  # setup-owned permissions: the next setup must be able to revoke them

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("identities", Lifecycle.FROZEN, env, opts)
        ctx = env.ctx
        # The rendered layers, by identity key ("management", "rt-<profile>"): Grants places their bindings.
        self.layers: dict[str, dict[str, Any]] = {MANAGEMENT: render_layer(env.plan, "management")}
        for profile in env.plan.runtime:
            self.layers[runtime_key(profile)] = render_layer(env.plan, "runtime", profile)

        self.management_email = ctx.identity(MANAGEMENT)
        # While revoked (alien-deploy revoke) the account is disabled, which rejects its tokens already issued,
        # and its description holds the time: a later setup finds both and keeps access revoked.
        self.management = self._account(MANAGEMENT, "management", management_description(ctx.revoked_at),
                                        disabled=bool(ctx.revoked_at))
        self.accounts: dict[str, gcp.serviceaccount.Account] = {MANAGEMENT: self.management}
        # profile -> the runtime service account's email, as an output that resolves once the account exists
        # (compute depends on it); its value is the deterministic email, so inputs stay reviewable.
        self.runtime: dict[str, pulumi.Output[str]] = {}
        for profile in env.plan.runtime:
            key = runtime_key(profile)
            account = self._account(key, f"runtime {profile}",
                                    f"Runtime identity of the compute running as profile '{profile}' (alien-pulumi).")
            self.accounts[key] = account
            email = ctx.identity(key)
            self.runtime[profile] = account.account_id.apply(lambda _, email=email: email)

        self.roles = self._roles()

        # The vendor's principal may get access tokens of the management account, nothing else (DESIGN.md §3):
        # a custom role with iam.serviceAccounts.getAccessToken only, bound on that account.
        impersonation = self.layers[MANAGEMENT]["impersonation"]
        role = impersonation["custom_role"]
        self.impersonation_role = self._custom_role("impersonation-role", role)
        if not ctx.revoked_at:  # revoked: the vendor's binding is not there
            gcp.serviceaccount.IAMMember(
                self.child_name("impersonation"),
                service_account_id=impersonation["scope"],
                role=impersonation["role"],
                member=impersonation["member"],
                # The access window, when the deployment has one: GCP evaluates it on every token request.
                **({"condition": impersonation["condition"]} if impersonation["condition"] else {}),
                opts=self.child_opts(depends_on=[self.management, self.impersonation_role]),
            )
        self.register_outputs({
            "management": self.management_email,
            "runtime": {profile: self.env.ctx.identity(runtime_key(profile)) for profile in env.plan.runtime},
            "roles": sorted(self.roles),
        })

    def _account(self, key: str, what: str, description: str, disabled: bool = False) -> gcp.serviceaccount.Account:
        return gcp.serviceaccount.Account(
            self.child_name(key),
            account_id=account_id(self.env.ctx.identity(key)),
            display_name=f"alien {self.env.ctx.prefix} {what}",
            description=description,
            disabled=disabled,
            project=self.env.ctx.project,
            opts=self.child_opts(),
        )

    def _roles(self) -> dict[str, gcp.projects.IAMCustomRole]:
        """One custom role per rendered role id. Role ids are per deployment prefix and permission set, so two
        layers (or two profiles) naming the same id name the same role: it is created once."""
        roles: dict[str, gcp.projects.IAMCustomRole] = {}
        permissions: dict[str, list[str]] = {}
        for rendered in self.layers.values():
            for role in rendered["roles"]:
                if not role["permissions"]:
                    # GCP rejects a custom role without permissions, and a set without grants binds nothing.
                    continue
                if role["id"] in permissions:
                    if permissions[role["id"]] != role["permissions"]:
                        raise ValueError(f"gcp: custom role {role['id']} is rendered with two permission lists")
                    continue
                permissions[role["id"]] = role["permissions"]
                roles[role["id"]] = self._custom_role(f"role-{role['id']}", role)
        return roles

    def _custom_role(self, part: str, role: dict[str, Any]) -> gcp.projects.IAMCustomRole:
        """A project custom role as the renderer describes it (id, title, description, permissions)."""
        return gcp.projects.IAMCustomRole(
            self.child_name(part),
            project=self.env.ctx.project,
            role_id=role["id"],
            title=role["title"],
            description=role["description"],
            permissions=role["permissions"],
            stage="GA",
            opts=self.child_opts(),
        )

    def management_outputs(self) -> dict[str, pulumi.Input[str]]:
        """What the vendor needs after setup: the account to impersonate, and its project."""
        email = self.management_email
        return {"service_account": self.management.account_id.apply(lambda _: email), "project": self.env.ctx.project}
