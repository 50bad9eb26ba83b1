"""The provisioning program (the customer admin's setup): ``pulumi up`` here, or ``alien-deploy up``."""

from alien_pulumi.components.base import ProgramKind
from alien_pulumi.programs.entry import run

run(ProgramKind.PROVISION)
