#!/usr/bin/env bash
# Three SSH test hosts, each in its own network, mount and PID namespaces with its own address, sshd,
# host key, authorized_keys and working directory, and a second interface on one private LAN
# (a bridge with no address in the root namespace: the hosts reach each other there, and
# nothing else, as the machines of a lab reach each other). `up` is idempotent; `down` removes
# everything `up` made. Writes $TESTBED_STATE/testbed.json for the tests.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/common.sh"
HOSTS=(h1 h2 h3)
SUBNET=10.213.77            # host i: veth 10.213.77.(4i+1) <-> 10.213.77.(4i+2) in netns
PLAIN_USER=pqemu-user       # non-root, not in the kvm group; only on h3
# uid 0 with /bin/sh as login shell. Tests log in as this user, not "root": bash sources
# ~/.bashrc for every command sshd runs, and this machine's /root/.bashrc (pyenv init) costs
# about 570 ms per command. One suite still logs in as "root" to show that works too.
ROOT_USER=pqemu-root
LAN=10.213.78              # host i: eth1 10.213.78.(i+2)/24 on bridge $LAN_BRIDGE
LAN_BRIDGE=pqemu-lan
ns() { echo "pqemu-$1"; }
addr() { echo "$SUBNET.$((4 * $1 + 2))"; }
lan_addr() { echo "$LAN.$(($1 + 2))"; }

# Each host runs its sshd in its own mount and PID namespaces (host-init.sh): its own /tmp (where
# its working directory, home and guest files are), its own /proc and user database, the Pulumi
# side's directories hidden. Its paths are the same strings as in the shared mode, but on the
# machine they are under $dir/root/tmp: a test reaches them only over SSH. PQEMU_TESTBED_SHARED=1
# brings up the older kind, network namespaces on this machine's files and processes.
isolated() { [ "${PQEMU_TESTBED_SHARED:-0}" != 1 ]; }
# A path as host i sees it, where the machine keeps it (isolated: inside the host's own /tmp).
host_backing() { if isolated; then echo "$TESTBED_STATE/${HOSTS[$1]}/root/tmp/${2#/tmp/}"; else echo "$2"; fi; }
running() {
  local dir=$1 n=$2
  if isolated; then [ -n "$(ip netns pids "$n" 2>/dev/null)" ]; else [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; fi
}

host_up() {
  local i=$1 name=${HOSTS[$1]} dir="$TESTBED_STATE/${HOSTS[$1]}" n cfg; n=$(ns "$name")
  mkdir -p "$(host_backing "$i" "$dir/work")"
  cfg=$dir; isolated && cfg=/run/pqemu-host
  if ! ip netns list | grep -qw "$n"; then
    ip netns add "$n"
    ip link add "pqv-$name" type veth peer name eth0 netns "$n"
    ip addr add "$SUBNET.$((4 * i + 1))/30" dev "pqv-$name"
    ip link set "pqv-$name" up
    ip -n "$n" addr add "$(addr "$i")/30" dev eth0
    ip -n "$n" link set eth0 up
    ip -n "$n" link set lo up
  fi
  if ! ip -n "$n" link show eth1 >/dev/null 2>&1; then
    ip link show "$LAN_BRIDGE" >/dev/null 2>&1 || { ip link add "$LAN_BRIDGE" type bridge && ip link set "$LAN_BRIDGE" up; }
    ip link del "pql-$name" >/dev/null 2>&1 || true
    ip link add "pql-$name" type veth peer name eth1 netns "$n"
    ip link set "pql-$name" master "$LAN_BRIDGE"
    ip link set "pql-$name" up
    ip -n "$n" addr add "$(lan_addr "$i")/24" dev eth1
    ip -n "$n" link set eth1 up
  fi
  [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key"
  cp "$TESTBED_STATE/client_key.pub" "$dir/authorized_keys.root"
  cp "$TESTBED_STATE/client_key.pub" "$dir/authorized_keys.$ROOT_USER"
  [ "$name" = h3 ] && cp "$TESTBED_STATE/client_key.pub" "$dir/authorized_keys.$PLAIN_USER"
  cat > "$dir/sshd_config" <<CFG
ListenAddress $(addr "$i")
Port 22
HostKey $cfg/ssh_host_ed25519_key
PidFile $(isolated && echo none || echo "$dir/sshd.pid")
AuthorizedKeysFile $cfg/authorized_keys.%u
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
MaxSessions 10
LogLevel VERBOSE
Subsystem sftp internal-sftp
CFG
  if ! running "$dir" "$n"; then
    if isolated; then
      mkdir -p "$dir/root/tmp" && chmod 1777 "$dir/root/tmp"
      setsid ip netns exec "$n" unshare --mount --pid --fork --mount-proc --propagation private \
        sh "$HERE/host-init.sh" "$dir" "$i" </dev/null >"$dir/init.log" 2>&1 &
    else
      ip netns exec "$n" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
    fi
  fi
  for _ in $(seq 1 50); do timeout 1 bash -c "</dev/tcp/$(addr "$i")/22" 2>/dev/null && return 0; sleep 0.1; done
  log "$name: no sshd on $(addr "$i"):22; its start said: $(cat "$dir/init.log" 2>/dev/null)"
  return 1
}

# Isolated hosts get the test guest the way a user's host gets an image: copied in over SSH.
guest_in() {
  local i=$1 dir="$TESTBED_STATE/${HOSTS[$1]}" known
  known=$(mktemp)
  echo "$(addr "$i") $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" > "$known"
  local opts=(-q -i "$TESTBED_STATE/client_key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes -o BatchMode=yes)
  ssh "${opts[@]}" "$ROOT_USER@$(addr "$i")" mkdir -p "$TESTBED_STATE/guest"
  scp "${opts[@]}" "$GUEST_DIR/vmlinuz" "$GUEST_DIR/initramfs.gz" "$GUEST_DIR/base.qcow2" "$ROOT_USER@$(addr "$i"):$TESTBED_STATE/guest/"
  rm -f "$known"
}

up() {
  "$HERE/packages.sh"
  mkdir -p "$TESTBED_STATE" /run/sshd
  [ -f "$TESTBED_STATE/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C pulumi-qemu-tests -f "$TESTBED_STATE/client_key"
  # "*" as password: no password login, but not a locked account (sshd refuses locked ones).
  id "$PLAIN_USER" >/dev/null 2>&1 || useradd -M -p "*" -d "$TESTBED_STATE/h3/work" -s /bin/sh "$PLAIN_USER"
  id "$ROOT_USER" >/dev/null 2>&1 || useradd -o -u 0 -g 0 -M -p "*" -d "$TESTBED_STATE" -s /bin/sh "$ROOT_USER"
  if isolated; then
    case "$TESTBED_STATE" in /tmp/*) ;; *) log "isolated hosts need the testbed under /tmp (their own /tmp holds it)"; exit 1 ;; esac
    mkdir -p /run/pqemu-host
    # Each host's PIDs start at its own million (host-init.sh).
    [ "$(cat /proc/sys/kernel/pid_max)" -ge 4194304 ] || echo 4194304 > /proc/sys/kernel/pid_max
  fi
  for i in "${!HOSTS[@]}"; do host_up "$i"; done
  chown -R "$PLAIN_USER" "$(host_backing 2 "$TESTBED_STATE/h3/work")"
  if isolated; then for i in "${!HOSTS[@]}"; do guest_in "$i"; done; fi
  write_json
  log "hosts up: $(for i in "${!HOSTS[@]}"; do printf '%s=%s ' "${HOSTS[$i]}" "$(addr "$i")"; done)"
}

write_json() {
  local out="$TESTBED_STATE/testbed.json.tmp" sep=""
  {
    printf '{\n  "clientKey": "%s",\n  "rootUser": "%s",\n  "plainUser": "%s",\n  "guest": {"dir": "%s"},\n  "debianImage": {"dir": "%s"},\n  "hosts": [' \
      "$TESTBED_STATE/client_key" "$ROOT_USER" "$PLAIN_USER" "$GUEST_DIR" "$CACHE/debian"
    for i in "${!HOSTS[@]}"; do
      local name=${HOSTS[$i]} dir="$TESTBED_STATE/${HOSTS[$i]}"
      printf '%s\n    {"name": "%s", "address": "%s", "lanAddress": "%s", "port": 22, "workDir": "%s", "guestDir": "%s", "isolated": %s, "hostKey": "%s"}' \
        "$sep" "$name" "$(addr "$i")" "$(lan_addr "$i")" "$dir/work" "$(isolated && echo "$TESTBED_STATE/guest" || echo "$GUEST_DIR")" \
        "$(isolated && echo true || echo false)" "$(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")"
      sep=","
    done
    printf '\n  ]\n}\n'
  } > "$out"
  mv "$out" "$TESTBED_STATE/testbed.json"
}

down() {
  for i in "${!HOSTS[@]}"; do
    local name=${HOSTS[$i]} dir="$TESTBED_STATE/${HOSTS[$i]}"
    [ -f "$dir/sshd.pid" ] && kill "$(cat "$dir/sshd.pid")" 2>/dev/null || true
    # An isolated host: everything in its namespaces ends with its first process.
    ip netns pids "$(ns "$name")" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    # QEMU instances that tests left behind in this host's working directory.
    if [ -d "$dir/work" ]; then
      for pidfile in $(find "$dir/work" -name '*.pid' 2>/dev/null); do
        kill "$(cat "$pidfile")" 2>/dev/null || true
      done
    fi
    ip netns list | grep -qw "$(ns "$name")" && ip netns del "$(ns "$name")"
    ip link del "pqv-$name" >/dev/null 2>&1 || true
    ip link del "pql-$name" >/dev/null 2>&1 || true
  done
  ip link del "$LAN_BRIDGE" >/dev/null 2>&1 || true
  if id "$PLAIN_USER" >/dev/null 2>&1; then
    pkill -KILL -u "$PLAIN_USER" 2>/dev/null || true
    for _ in $(seq 1 20); do userdel "$PLAIN_USER" 2>/dev/null && break; sleep 0.1; done
  fi
  # -f: processes of uid 0 always exist; the alias goes, root stays.
  if id "$ROOT_USER" >/dev/null 2>&1; then userdel -f "$ROOT_USER" 2>/dev/null || true; fi
  case "$TESTBED_STATE" in /tmp/pulumi-qemu-testbed*) rm -rf "$TESTBED_STATE" ;; esac
  log "hosts down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
