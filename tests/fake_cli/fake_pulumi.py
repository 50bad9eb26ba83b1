"""A stand-in for the `pulumi` CLI, for contract tests: records each invocation (arguments and environment)
and answers like the CLI does. Behaviour from environment variables:

FAKE_PULUMI_LOG     JSON lines file where each call is appended as {"args": [...], "env": {...}}
FAKE_PULUMI_EVENTS  JSON lines engine event log replayed into --event-log for up/preview/refresh
FAKE_PULUMI_OUTPUTS JSON object printed by `stack output --json`
FAKE_PULUMI_FAIL    "locked" (up fails with the DIY backend's lock message), "vanished-lock" (the lock check read a
                    lock file released meanwhile: a gocloud NotFound, flattened by the CLI into its causes),
                    "joined" (the engine ran, then failed with two joined causes), "compile" or "federated-gone"
                    (the azure-native provider's OIDC sign-in refused by Entra: the federated credential deleted)
FAKE_PULUMI_NEW_STACK set: `stack select` finds no stack (the first run on a backend: `stack init` follows)
"""

import json
import os
import sys

args = sys.argv[1:]
if args == ["version"]:
    print("v3.200.0")
    sys.exit(0)
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "env": dict(os.environ)}) + "\n")
words = [a for a in args if not a.startswith("-")]
fail = os.environ.get("FAKE_PULUMI_FAIL")

def close_event_log(replay: bool) -> None:
    """The engine ends every event log with a cancel event, also when the update fails."""
    if "--event-log" not in args:
        return
    with open(args[args.index("--event-log") + 1], "a") as out:
        if replay:
            with open(os.environ["FAKE_PULUMI_EVENTS"]) as events:
                out.writelines(events)
        out.write(json.dumps({"sequence": 9999, "timestamp": 0, "cancelEvent": {}}) + "\n")


if words[:1] in (["up"], ["preview"], ["refresh"]):
    close_event_log(replay=fail in (None, "joined"))
    if fail in ("vanished-lock", "joined"):
        first = ("operation error S3: GetObject, https response error StatusCode: 404, RequestID: 1A2B, api error "
                 "NoSuchKey: The specified key does not exist." if fail == "vanished-lock"
                 else "writing snapshot: operation error S3: PutObject, https response error StatusCode: 503")
        print(f"error: 2 errors occurred:\n    1) {first}\n    2) NotFound", file=sys.stderr)
        sys.exit(255)
    if fail == "locked":
        print("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
              "or delete the lock file with `pulumi cancel`.", file=sys.stderr)
        sys.exit(255)
    if fail == "federated-gone":
        # azidentity's error as the provider reports it: the AADSTS code sits on a line of its own JSON body.
        print("error: pulumi:providers:azure-native resource 'default' has a problem: building credentials: "
              "ClientAssertionCredential authentication failed. \n"
              "POST https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token\n"
              "RESPONSE 400: 400 Bad Request\n"
              "{\n"
              '  "error": "invalid_request",\n'
              '  "error_description": "AADSTS70021: No matching federated identity record found for presented '
              "assertion. Assertion Issuer: 'https://vendor.example'. Assertion Subject: 'vendor-release'. "
              "Assertion Audience: 'api://AzureADTokenExchange'.\",\n"
              '  "error_codes": [70021]\n'
              "}", file=sys.stderr)
        sys.exit(255)
    if fail == "compile":
        print("error: an unhandled error occurred: Program exited with non-zero exit code: 1")
        print("Build FAILED.")
        sys.exit(255)
    print("done")
elif words[:2] == ["stack", "select"] and os.environ.get("FAKE_PULUMI_NEW_STACK"):
    print(f"error: no stack named '{args[args.index('--stack') + 1]}' found", file=sys.stderr)
    sys.exit(255)
elif words[:2] == ["stack", "output"]:
    print(os.environ.get("FAKE_PULUMI_OUTPUTS", "{}"))
elif words[:2] == ["stack", "export"]:
    # An empty stack (or FAKE_PULUMI_STATE's resources): what the admin's state check reads before a setup.
    resources = json.loads(os.environ.get("FAKE_PULUMI_STATE", "[]"))
    print(json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": resources}}))
elif words[:2] == ["stack", "history"]:
    print(json.dumps([{"version": 1, "kind": "update", "startTime": "2026-11-29T00:00:00.000Z", "message": "",
                       "environment": {}, "config": {}, "result": "succeeded", "endTime": "2026-11-29T00:01:00.000Z",
                       "resourceChanges": {"update": 1}}]))
sys.exit(0)
