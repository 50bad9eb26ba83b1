"""Stage 5: the provisioning and management Pulumi programs of a stack for one deployment."""

from alien_pulumi.components.base import ProgramKind
from alien_pulumi.programs.build import PROJECT, build, management_program, provisioning_program

__all__ = ["PROJECT", "ProgramKind", "build", "management_program", "provisioning_program"]
