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
command -v go >/dev/null || { log "Go is needed to build pulumi-language-yaml and was not found"; exit 1; }

SRC="$CACHE/pulumi-yaml-$YAML_VERSION/src"
mkdir -p "$SRC"
cat > "$SRC/go.mod" <<MOD
module pulumiqemu.local/pulumi-yaml

go 1.25

require github.com/pulumi/pulumi-yaml $YAML_VERSION
MOD
cat > "$SRC/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
GO
cd "$SRC"
log "resolving modules for pulumi-yaml $YAML_VERSION (first run only)"
GOFLAGS=-mod=mod go mod tidy -e >&2
log "building pulumi-language-yaml $YAML_VERSION (a few minutes, first run only)"
CGO_ENABLED=0 go build -trimpath -o "$DEST.tmp" \
  -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION" \
  github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml >&2
mv -f "$DEST.tmp" "$DEST"
echo "$YAML_VERSION" > "$STAMP"
log "built $DEST"
echo "$BIN"
