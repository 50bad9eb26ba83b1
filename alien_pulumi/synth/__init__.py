"""Offline synthesis of both programs under Pulumi mocks."""

from alien_pulumi.synth.graph import Graph, Node, management_targets
from alien_pulumi.synth.mocks import RecordingMonitor, Registration, run_program
from alien_pulumi.synth.synth import SynthError, SynthResult, synth

__all__ = ["Graph", "Node", "RecordingMonitor", "Registration", "SynthError", "SynthResult", "management_targets",
           "run_program", "synth"]
