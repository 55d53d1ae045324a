#!/usr/bin/env bash
# Provides the pinned YAML language host (pulumi-language-yaml) beside the pinned CLI, built
# from the Go module proxy and cached. Its own module: it does not build inside the CLI's
# (their dependency versions disagree). Prints the directory holding it on stdout.
set -euo pipefail
YAML_VERSION="${PULUMI_YAML_VERSION:-v1.25.0}"
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="$("$HERE/pulumi-cli.sh")"
CACHE="${PULUMI_QEMU_CACHE:-$HOME/.cache/pulumi-qemu}"
DEST="$BIN/pulumi-language-yaml"
STAMP="$BIN/.pulumi-language-yaml.version"
log() { echo "pulumi-yaml: $*" >&2; }

if [ -x "$DEST" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$YAML_VERSION" ]; then echo "$BIN"; exit 0; fi
. "$HERE/go-build.sh"
log "building pulumi-language-yaml $YAML_VERSION from the Go module proxy (about a minute, first run only)"
go_build_wrapped "$CACHE/pulumi-yaml-$YAML_VERSION/src" "$DEST" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
  "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION" "require github.com/pulumi/pulumi-yaml $YAML_VERSION"
echo "$YAML_VERSION" > "$STAMP"
log "built $DEST"
echo "$BIN"
