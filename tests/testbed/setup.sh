#!/usr/bin/env bash
# All set-up a fresh machine needs, idempotent and cached: Debian packages, the test guest, the
# real Debian cloud image (about 80 s to build once), the pinned Pulumi CLI and its YAML language host. (npm packages come from `npm install`; the test hosts are brought up
# and down by the test runner itself.)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
"$HERE/packages.sh"
"$HERE/guest.sh"
"$HERE/debian-image.sh"
"$HERE/pulumi-cli.sh" >/dev/null
"$HERE/pulumi-yaml.sh" >/dev/null
