#!/usr/bin/env bash
# Provides the pinned Pulumi CLI, built from Go modules (the npm `pulumi` package only
# downloads from the internet, which this machine cannot reach). Idempotent: a cached
# build is reused. Prints the directory holding `pulumi` on stdout; logs go to stderr.
set -euo pipefail
PULUMI_VERSION="${PULUMI_VERSION:-v3.248.0}"
CACHE="${PULUMI_QEMU_CACHE:-$HOME/.cache/pulumi-qemu}"
BIN="$CACHE/pulumi-$PULUMI_VERSION/bin"
log() { echo "pulumi-cli: $*" >&2; }
REPO="$(cd "$(dirname "$0")/../.." && pwd)"

# The dynamic-provider plugin is a script inside the @pulumi/pulumi npm package; the engine
# looks for it beside the CLI or on PATH.
add_nodejs_provider_plugin() {
  local script="$REPO/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  [ -f "$script" ] || { log "run npm install first: $script is missing"; exit 1; }
  local dest="$1/pulumi-resource-pulumi-nodejs" tmp
  [ -x "$dest" ] && cmp -s "$script" "$dest" && return 0
  # Renamed into place: two CLIs starting at once (two stacks' `up`) raced `install` here ("File exists").
  tmp="$(mktemp "$1/.pulumi-resource-pulumi-nodejs.XXXXXX")"
  cp "$script" "$tmp" && chmod 755 "$tmp" && mv -f "$tmp" "$dest"
}

if [ -x "$BIN/pulumi" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "$PULUMI_VERSION" ]; then
  add_nodejs_provider_plugin "$BIN"; echo "$BIN"; exit 0
fi
if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "$PULUMI_VERSION" ]; then
  mkdir -p "$BIN"; ln -sf "$(command -v pulumi)" "$BIN/pulumi"
  add_nodejs_provider_plugin "$BIN"; echo "$BIN"; exit 0
fi
# A wrapper module: upstream pkg/go.mod has `replace` lines, so `go install pkg@v` fails.
. "$(dirname "$0")/go-build.sh"
log "building pulumi $PULUMI_VERSION from the Go module proxy (several minutes on 2 cores, first run only)"
go_build_wrapped "$CACHE/pulumi-$PULUMI_VERSION/src" "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" "require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"
add_nodejs_provider_plugin "$BIN"
log "built $BIN/pulumi"
echo "$BIN"
