// Test-only: AWS IAM policy simulations with iam-simulate (AGPL, installed by tools/test-deps.sh outside the repo,
// never shipped). Reads {"resource_policy", "requests": [{principal, action, resource, account, context,
// identity_policies}]} as JSON on stdin; writes one {"result", "ignored"} (or {"error"}) per request.
'use strict';
const path = require('node:path');
const { createRequire } = require('node:module');
// The directory npm ci installed into (tools/test-deps.sh): resolve the package from there, as its own code would.
const installed = process.env.ALIEN_AWS_SIMULATOR_CACHE;
if (!installed) {
  process.stderr.write('ALIEN_AWS_SIMULATOR_CACHE is not set: run tools/test-deps.sh\n');
  process.exit(2);
}
const { runSimulation } = createRequire(path.join(installed, 'package.json'))('@cloud-copilot/iam-simulate');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString());
  const results = [];
  for (const req of input.requests) {
    const outcome = await runSimulation({
      request: {
        principal: req.principal,
        action: req.action,
        resource: { resource: req.resource, accountId: req.account },
        contextVariables: req.context,
      },
      identityPolicies: (req.identity_policies || []).map((policy, i) => ({ name: `identity${i}`, policy })),
      resourcePolicy: input.resource_policy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    }, { simulationMode: 'Strict' });
    results.push(outcome.resultType === 'error' ? { error: outcome.errors }
      : { result: outcome.overallResult, ignored: outcome.result.ignoredContextKeys || [] });
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\n');
  process.exit(1);
});
