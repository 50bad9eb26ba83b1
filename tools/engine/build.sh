#!/usr/bin/env bash
# Build the Pulumi CLI (the engine) from its Go modules at the version pinned in tools/engine/go.mod, and cache
# it outside the repo:  ${ALIEN_PULUMI_ENGINE_CACHE:-$HOME/.cache/alien-pulumi/engine}/<version>/bin/pulumi
# A second run finds the cached binary and returns at once. Prints the bin directory on its last line.
#
# Programs run inline through the Automation API (the Python process serves the language runtime), so no
# Python language host is built: its Go module (sdk/python/cmd/pulumi-language-python/v3) is not served by the
# Go module proxy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' "$here/go.mod")"
[ -n "$version" ] || { echo "engine build: no github.com/pulumi/pulumi/pkg/v3 version in $here/go.mod" >&2; exit 1; }
cache="${ALIEN_PULUMI_ENGINE_CACHE:-$HOME/.cache/alien-pulumi/engine}"
bin="$cache/${version#v}/bin"
if [ -x "$bin/pulumi" ] && "$bin/pulumi" version >/dev/null 2>&1; then
    echo "$bin"
    exit 0
fi
command -v go >/dev/null || { echo "engine build: the Go toolchain (go) is not on PATH; install Go >= 1.26" >&2; exit 1; }
mkdir -p "$bin"
tmp="$bin/.pulumi.$$"
trap 'rm -f "$tmp"' EXIT
echo "engine build: pulumi $version with $(go version | awk '{print $3}') (first build takes minutes)" >&2
start=$(date +%s)
(cd "$here" && go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-w -s -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
mv "$tmp" "$bin/pulumi"
echo "engine build: $("$bin/pulumi" version) in $(( $(date +%s) - start )) s" >&2
echo "$bin"
