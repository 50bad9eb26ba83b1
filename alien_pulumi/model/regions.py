"""The regions of each cloud a deployment may name (data, checked by ``context.DeploymentContext``).

Where each list comes from (compiled on ``LISTED_ON``; a region a cloud opens later is refused until it is added here):

- AWS: every region of every partition in the endpoint data botocore 1.44.18 ships,
  ``botocore/data/partitions.json`` (``partitions[].regions``), without the ``*-global`` pseudo-regions. A test
  checks that the installed botocore knows no region missing here.
- Azure: the location names (``az account list-locations``' ``name``) of the public cloud, Azure Government, Azure
  China and the air-gapped US clouds: the values of azure-identity 1.27.0's
  ``azure.identity._enums.RegionalAuthority`` and of pulumi_azure_native 3.29.0's ``migrate.AzureLocation``
  (lowercased), without the retired regions (``RETIRED``), plus the regions Microsoft's regions list
  (learn.microsoft.com/azure/reliability/regions-list) names that neither enum has (westus3, brazilsoutheast,
  jioindiacentral, swedensouth, chinaeast3, chinanorth3, austriaeast, belgiumcentral, chilecentral, denmarkeast,
  indonesiacentral, malaysiawest). A test checks the azure-identity enum.
- GCP: no installed package ships the list; the regions of Google Cloud's "Geography and regions" and Compute Engine
  "Regions and zones" documentation (docs.cloud.google.com/compute/docs/regions-zones), transcribed by hand,
  including the restricted us-central2, us-east7 and us-west8.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType

from alien_pulumi.model.types import Platform

LISTED_ON = "2026-12-07"

_AWS = (
    # aws
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
    "me-west-1", "mx-central-1", "sa-east-1", "sa-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    # aws-cn, aws-eusc, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-us-gov
    "cn-north-1", "cn-northwest-1", "eusc-de-east-1", "us-iso-east-1", "us-iso-west-1", "us-isob-east-1",
    "us-isob-west-1", "eu-isoe-west-1", "us-isof-east-1", "us-isof-south-1", "us-gov-east-1", "us-gov-west-1",
)

_AZURE = (
    # public cloud
    "australiacentral", "australiacentral2", "australiaeast", "australiasoutheast", "austriaeast", "belgiumcentral",
    "brazilsouth", "brazilsoutheast", "canadacentral", "canadaeast", "centralindia", "centralus", "chilecentral",
    "denmarkeast", "eastasia", "eastus", "eastus2", "francecentral", "francesouth", "germanynorth",
    "germanywestcentral", "indonesiacentral", "israelcentral", "italynorth", "japaneast", "japanwest",
    "jioindiacentral", "jioindiawest", "koreacentral", "koreasouth", "malaysiawest", "mexicocentral",
    "newzealandnorth", "northcentralus", "northeurope", "norwayeast", "norwaywest", "polandcentral", "qatarcentral",
    "southafricanorth", "southafricawest", "southcentralus", "southeastasia", "southindia", "spaincentral",
    "swedencentral", "swedensouth", "switzerlandnorth", "switzerlandwest", "uaecentral", "uaenorth", "uksouth",
    "ukwest", "westcentralus", "westeurope", "westindia", "westus", "westus2", "westus3",
    # Azure Government
    "usdodcentral", "usdodeast", "usgovarizona", "usgovtexas", "usgovvirginia",
    # Azure China (21Vianet)
    "chinaeast", "chinaeast2", "chinaeast3", "chinanorth", "chinanorth2", "chinanorth3",
    # air-gapped US clouds
    "usnateast", "usnatwest", "usseccentral", "usseceast", "ussecwest",
)
# Names the SDK enums still carry for regions that are closed (Azure Germany, 2021; US Gov Iowa).
RETIRED: frozenset[str] = frozenset({"germanycentral", "germanynortheast", "usgoviowa"})

_GCP = (
    "africa-south1",
    "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
    "asia-southeast1", "asia-southeast2", "asia-southeast3", "australia-southeast1", "australia-southeast2",
    "europe-central2", "europe-north1", "europe-north2", "europe-southwest1", "europe-west1", "europe-west2",
    "europe-west3", "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west10", "europe-west12",
    "me-central1", "me-central2", "me-west1",
    "northamerica-northeast1", "northamerica-northeast2", "northamerica-south1", "southamerica-east1",
    "southamerica-west1",
    "us-central1", "us-central2", "us-east1", "us-east4", "us-east5", "us-east7", "us-south1", "us-west1", "us-west2",
    "us-west3", "us-west4", "us-west8",
)

KNOWN_REGIONS: Mapping[Platform, frozenset[str]] = MappingProxyType({
    Platform.AWS: frozenset(_AWS),
    Platform.GCP: frozenset(_GCP),
    Platform.AZURE: frozenset(_AZURE),
})
# What each cloud calls a region, and the examples an error shows when no known name is close.
_LABEL = {Platform.AWS: "AWS region", Platform.GCP: "GCP region", Platform.AZURE: "Azure location"}
_EXAMPLES = {Platform.AWS: ("us-east-1", "eu-west-1"), Platform.GCP: ("us-central1", "europe-west4"),
             Platform.AZURE: ("eastus", "westeurope")}


def closest_regions(platform: Platform, region: str, count: int = 3) -> list[str]:
    """The known regions of ``platform`` closest to ``region`` (difflib), closest first; none when nothing is close."""
    return difflib.get_close_matches(region, sorted(KNOWN_REGIONS[platform]), n=count)


def unknown_region(platform: Platform, region: str) -> str | None:
    """Why ``region`` is not a region of ``platform`` alien-pulumi knows, suggesting the closest known ones (None: it
    is one)."""
    if region in KNOWN_REGIONS[platform]:
        return None
    close = closest_regions(platform, region)
    hint = f": did you mean {_or(close)}?" if close else f", e.g. {_or(list(_EXAMPLES[platform]))}"
    return (f"{region!r} is not a known {_LABEL[platform]}{hint} (alien-pulumi knows the regions of {LISTED_ON}; a "
            "newer one needs a newer alien-pulumi)")


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
