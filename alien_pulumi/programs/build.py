"""Build the resource graph of a stack for one deployment: the same graph (types, names, parents,
providers) in both programs; only the lifecycle options differ (DESIGN.md §4)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

import pulumi
import pulumi.runtime.resource
from pulumi.runtime.proto import source_pb2

from alien_pulumi.components.base import Env, ProgramKind
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.images import mirrors
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import ResourceType
from alien_pulumi.permissions.plan import derive_plan

PROJECT = "alien"  # the Pulumi project of both programs: they share one stack (state) per deployment
# Networks first, then data, then compute: compute needs their outputs (subnets, names, queue ARNs).
BUILD_ORDER = [
    ResourceType.NETWORK,
    ResourceType.STORAGE,
    ResourceType.QUEUE,
    ResourceType.KV,
    ResourceType.VAULT,
    ResourceType.FUNCTION,
    ResourceType.CONTAINER,
]


def cloud_module(ctx: DeploymentContext) -> ModuleType:
    """The components of one cloud; importing it imports only that cloud's provider SDK."""
    return importlib.import_module(f"alien_pulumi.components.{ctx.platform.value}")


def _no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


def without_stack_traces() -> None:
    """Register resources without the Python stack of the registering call.

    The SDK sends every registration's stack (asyncio, the Automation API server, alien_pulumi's own components)
    and the engine keeps it in the state: the paths of the machine that ran the program (the vendor's release
    service, its user and virtualenv) would land in the customer's state, and the traces were two thirds of a
    state's bytes, which the engine rewrites after every step. They point into this library, never into code a
    user wrote, so nothing is lost. A later SDK without this hook fails the engine tests that read the state."""
    pulumi.runtime.resource._get_stack_trace = _no_stack_trace


def build(spec: StackSpec, ctx: DeploymentContext, kind: ProgramKind) -> Env:
    """Declare every resource of ``spec`` (call inside a Pulumi program)."""
    without_stack_traces()
    cloud = cloud_module(ctx)
    env = Env(spec=spec, ctx=ctx, kind=kind, plan=derive_plan(spec, ctx))
    provider = cloud.provider(env)
    opts = pulumi.ResourceOptions(providers=[provider])
    env.foundation = cloud.Foundation(env, opts)
    ordered = sorted(spec.resources, key=lambda r: BUILD_ORDER.index(r.kind))
    # Networks before the identities: the AWS management policy names the subnets each container is placed in
    # (permissions/placement.py), which only their outputs hold. Networks need no identity.
    networks = [r for r in ordered if r.kind is ResourceType.NETWORK]
    for res in networks:
        env.built[res.id] = cloud.COMPONENTS[res.kind](res, env, opts)
    env.identities = cloud.Identities(env, opts)
    if mirrors(spec, ctx.platform, ctx.prefix):  # cache rules / remote repositories the images come through
        env.registry = cloud.Registry(env, opts)
    for res in (r for r in ordered if r.kind is not ResourceType.NETWORK):
        env.built[res.id] = cloud.COMPONENTS[res.kind](res, env, opts)
    # Bindings that need the resources to exist (resource-level IAM, role assignments).
    cloud.Grants(env, pulumi.ResourceOptions(providers=[provider], depends_on=list(env.built.values())))
    pulumi.export("deployment", {"stack": spec.name, "prefix": ctx.prefix, "platform": ctx.platform.value,
                                 "program": kind.value, "digest": spec.digest(),
                                 "frozen_digest": spec.frozen_digest()})
    pulumi.export("management_identity", env.identities.management_outputs())
    return env


def program(spec: StackSpec, ctx: DeploymentContext, kind: ProgramKind) -> Callable[[], None]:
    def run() -> None:
        build(spec, ctx, kind)

    return run


def provisioning_program(spec: StackSpec, ctx: DeploymentContext) -> Callable[[], None]:
    """The admin's setup program: creates everything, frozen parts protected."""
    return program(spec, ctx, ProgramKind.PROVISION)


def management_program(spec: StackSpec, ctx: DeploymentContext) -> Callable[[], None]:
    """The vendor's release program: same graph; frozen parts protected and ignoring every change."""
    return program(spec, ctx, ProgramKind.MANAGE)
