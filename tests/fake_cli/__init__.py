"""A stand-in `pulumi` CLI that records every call, for contract tests of the Automation API code."""
