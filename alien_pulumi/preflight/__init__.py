"""Stage 3: preflight of a new stack against what is deployed, and the pull-request report."""

from alien_pulumi.preflight.checks import PreflightReport, preflight
from alien_pulumi.preflight.deployed import Deployed, from_record, from_spec
from alien_pulumi.preflight.findings import Code, Finding, Severity

__all__ = ["Code", "Deployed", "Finding", "PreflightReport", "Severity", "from_record", "from_spec", "preflight"]
