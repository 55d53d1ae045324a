#!/usr/bin/env bash
# Installs the Debian packages the project and its tests need, only those missing.
set -euo pipefail
. "$(dirname "$0")/common.sh"
PKGS=(qemu-system-x86 qemu-system-arm qemu-utils openssh-server openssh-client iproute2 busybox-static
      dropbear-bin cpio gzip procps kmod shellcheck)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { log "need root to install: ${missing[*]}"; exit 1; }
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
