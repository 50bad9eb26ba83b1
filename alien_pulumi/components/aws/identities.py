"""AWS Identities (DESIGN.md §3): the management role the vendor assumes and one runtime role per
permission profile, each with customer-managed policies holding exactly the rendered layer.

Managed policies, not inline ones: the renderer splits a layer into documents under the managed-policy
size limit (6,144 characters each), while all inline policies of a role share one 10,240 limit.
Names: ``ctx.identity("management-N")`` = ``{prefix}-management-N`` and ``ctx.identity("rt-<profile>-N")``
= ``{prefix}-rt-<profile>-N``, inside what the identity set lets the admin manage.

Placement: the rendered management layer names the subnets each container's service runs in by a sentinel
(permissions/placement.py), since EC2 assigns their ids at setup. The policy holding one is attached with the ids
of the subnets the Container component places that service in (``VpcParts.placement``, the same call), from the
subnets' outputs: the policy depends on the subnets, so they exist first. The program builds the stack's Network
before this component (programs/build.py); the Foundation's VPC is built before it too.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.aws.network import VpcParts
from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.context import REVOKED_MARK
from alien_pulumi.model.resources import ContainerSpec
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.permissions.placement import fill_subnets, placement_values, sentinels
from alien_pulumi.permissions.render import render_layer
from alien_pulumi.permissions.render.aws import REVOKED_SESSIONS_POLICY

MAX_SESSION_SECONDS = 3600  # DESIGN.md §3: 1 h sessions for the vendor's release service


class Identities(AlienComponent):
    cloud = Platform.AWS
    type_name = "Identities"
    protected = False  # setup-owned permissions: the next setup must be able to revoke them

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("identities", Lifecycle.FROZEN, env, opts)
        ctx = env.ctx
        management = render_layer(env.plan, "management")
        self.management_role = aws.iam.Role(
            self.child_name("management"),
            name=ctx.identity("management"),
            description=f"alien-pulumi: the vendor's release service for stack {env.spec.name} (setup-owned)",
            assume_role_policy=json.dumps(management["trust_policy"]),
            max_session_duration=MAX_SESSION_SECONDS,
            # While revoked (alien-deploy revoke): the mark a later setup finds, so that it keeps access revoked.
            tags={**self.tags, **({REVOKED_MARK: ctx.revoked_at} if ctx.revoked_at else {})},
            opts=self.child_opts(),
        )
        self.management_policies = self._attach("management", self.management_role, management["policies"])
        if "revoked_sessions" in management:  # sessions issued before the revocation are denied everything
            aws.iam.RolePolicy(
                self.child_name("management-revoked-sessions"),
                name=REVOKED_SESSIONS_POLICY,
                role=self.management_role.name,
                policy=json.dumps(management["revoked_sessions"]),
                opts=self.child_opts(),
            )

        # Profile -> runtime role ARN (what Lambda and ECS are handed), and the attachments compute must
        # wait for: a trigger's CreateEventSourceMapping checks the role's queue permissions.
        self.runtime: dict[str, pulumi.Output[str]] = {}
        self.runtime_roles: dict[str, aws.iam.Role] = {}
        self.runtime_ready: dict[str, list[pulumi.Resource]] = {}
        for profile in sorted(env.plan.runtime):
            rendered = render_layer(env.plan, "runtime", profile)
            role = aws.iam.Role(
                self.child_name(f"rt-{profile}"),
                name=ctx.identity(f"rt-{profile}"),
                description=f"alien-pulumi: compute of stack {env.spec.name} running as profile {profile!r}",
                assume_role_policy=json.dumps(rendered["trust_policy"]),
                tags=self.tags,
                opts=self.child_opts(),
            )
            self.runtime_roles[profile] = role
            self.runtime[profile] = role.arn
            self.runtime_ready[profile] = self._attach(f"rt-{profile}", role, rendered["policies"])
        self.register_outputs({
            "management_role_arn": self.management_role.arn,
            "runtime_role_arns": self.runtime,
        })

    def _placed_subnets(self) -> dict[str, list[pulumi.Output[str]]]:
        """Subnet sentinel -> the ids of the subnets the containers it stands for are placed in (the call the
        Container component makes). The permission data and the component must agree on every container."""
        env = self.env
        network = env.network()
        parts: VpcParts | None = network.parts if network is not None else env.foundation.network  # type: ignore[attr-defined]
        placed: dict[str, list[pulumi.Output[str]]] = {}
        for res in env.spec.resources:
            if not isinstance(res, ContainerSpec):
                continue
            if parts is None:
                raise RuntimeError(f"container {res.id!r} has no network: build the Network before the identities")
            values = placement_values(env.spec, res, env.ctx)
            subnets, public_ip = parts.placement(res.public)
            if values["public_ip"] != str(public_ip).lower():
                raise RuntimeError(f"container {res.id!r}: the permission data says public IP {values['public_ip']}, "
                                   f"the component assigns {public_ip}")
            placed.setdefault(values["subnets"], subnets)
        return placed

    def _document(self, document: dict[str, Any]) -> pulumi.Input[str]:
        """The policy text of ``document``: as rendered, or with its subnet sentinels filled from their outputs."""
        found = sentinels(document)
        if not found:
            return json.dumps(document)
        placed = self._placed_subnets()
        missing = [s for s in found if s not in placed]
        if missing:
            raise RuntimeError(f"the policy names {missing}, which no container of the stack is placed in")
        return pulumi.Output.all(*(pulumi.Output.all(*placed[s]) for s in found)).apply(
            lambda ids: json.dumps(fill_subnets(document, dict(zip(found, ids, strict=True)))))

    def _attach(self, identity: str, role: aws.iam.Role, documents: list[dict[str, Any]]) -> list[pulumi.Resource]:
        """One managed policy per rendered document, attached to ``role``."""
        created: list[pulumi.Resource] = []
        for number, document in enumerate(documents, start=1):
            policy = aws.iam.Policy(
                self.child_name(f"{identity}-{number}"),
                name=self.env.ctx.identity(f"{identity}-{number}"),
                # No count of the documents: IAM cannot change a description (ForceNew), and a setup adding a document
                # would replace every policy of the role, each deleted first (it is named), with its attachment.
                description=f"alien-pulumi {identity} permissions {number} of stack {self.env.spec.name}",
                policy=self._document(document),
                tags=self.tags,
                opts=self.child_opts(),
            )
            attachment = aws.iam.RolePolicyAttachment(
                self.child_name(f"{identity}-{number}-attachment"),
                role=role.name,
                policy_arn=policy.arn,
                opts=self.child_opts(),
            )
            created += [policy, attachment]
        return created

    def management_outputs(self) -> dict[str, pulumi.Input[str]]:
        """What the vendor needs after setup to assume the management role."""
        return {"role_arn": self.management_role.arn, "external_id": self.env.ctx.external}
