"""The management program (the vendor's targeted release run through the Automation API)."""

from alien_pulumi.components.base import ProgramKind
from alien_pulumi.programs.entry import run

run(ProgramKind.MANAGE)
