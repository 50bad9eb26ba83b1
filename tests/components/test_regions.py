"""The region of the deployment is the only one anywhere: every resource input, every provider, every
permission scope and the customer's document, on every cloud (EU customers keep their data in the EU)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import alien_pulumi as alien
from alien_pulumi.model.context import aws_partitions
from alien_pulumi.permissions import derive_plan, render_all, render_markdown
from alien_pulumi.synth import synth
from tests.conftest import EXAMPLES

# Azure's public location names (az account list-locations), an independent list to search for.
AZURE_LOCATIONS = """eastus eastus2 westus westus2 westus3 centralus northcentralus southcentralus westcentralus
canadacentral canadaeast brazilsouth brazilsoutheast mexicocentral chilecentral northeurope westeurope uksouth ukwest
francecentral francesouth germanywestcentral germanynorth switzerlandnorth switzerlandwest norwayeast norwaywest
swedencentral swedensouth polandcentral italynorth spaincentral austriaeast belgiumcentral denmarkeast
eastasia southeastasia japaneast japanwest koreacentral koreasouth australiaeast australiasoutheast
australiacentral australiacentral2 centralindia southindia westindia jioindiawest jioindiacentral
uaenorth uaecentral qatarcentral israelcentral southafricanorth southafricawest newzealandnorth
indonesiacentral malaysiawest taiwannorth""".split()
REQUESTED = {"aws": "eu-central-1", "gcp": "europe-west4", "azure": "swedencentral"}


def everything(platform: str, spec: alien.StackSpec) -> tuple[str, alien.synth.SynthResult]:
    ctx = alien.DeploymentContext.example_context(platform, spec.name, region=REQUESTED[platform])
    result = synth(spec, ctx)
    inputs = [n.inputs for graph in (result.provision, result.manage) for n in graph.nodes.values()]
    plan = derive_plan(spec, ctx)
    text = json.dumps(inputs) + json.dumps(render_all(plan)) + render_markdown(plan)
    # The vendor's own image registry (account 111122223333 in the examples) is in the vendor's region, not
    # the customer's: its references are not the deployment's resources.
    return re.sub(r"[^\s\"'`]*111122223333[^\s\"'`]*", "", text), result


def regions_in(platform: str, text: str) -> set[str]:
    if platform == "aws":  # every partition's region pattern (botocore's), unanchored
        return {m.group(0) for regex in aws_partitions().values()
                for m in re.finditer(r"\b" + regex.pattern.strip("^$").replace("\\w+", "[a-z]+") + r"\b", text)}
    if platform == "gcp":
        return set(re.findall(r"\b[a-z]+-[a-z]+\d\b", text))
    return {loc for loc in AZURE_LOCATIONS if re.search(rf"(?<![a-z0-9]){loc}(?![a-z0-9])", text)}


CASES = [(platform.value, path) for path in EXAMPLES for platform in alien.load_stack(path).platforms]


@pytest.mark.parametrize(("platform", "example"), CASES, ids=[f"{p}-{e.stem}" for p, e in CASES])
def test_no_other_region_appears_in_synth_or_permissions(platform: str, example: Path) -> None:
    spec = alien.load_stack(example)
    text, result = everything(platform, spec)
    assert regions_in(platform, text) == {REQUESTED[platform]}
    provider = next(n for n in result.provision.nodes.values() if n.type.startswith("pulumi:providers:"))
    key = {"aws": "region", "gcp": "region", "azure": "location"}[platform]
    assert provider.inputs[key] == REQUESTED[platform]


def test_every_azure_resource_with_a_location_is_in_the_requested_one() -> None:
    spec = alien.load_stack(EXAMPLES[-1])
    _, result = everything("azure", spec)
    located = [n for n in result.provision.nodes.values() if "location" in n.inputs]
    assert located and {n.inputs["location"] for n in located} == {REQUESTED["azure"]}


def test_the_region_flag_reaches_every_cloud() -> None:
    from tests.cli.helpers import run_json

    for platform, region in REQUESTED.items():
        data = run_json("synth", str(EXAMPLES[-1]), "-p", platform, "--region", region)
        assert data["region"] == region
        assert {p["inputs"].get("region", p["inputs"].get("location")) for p in data["providers"]} == {region}
