#!/usr/bin/env bash
# Three SSH test hosts, each in its own network namespace with its own address, sshd,
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

host_up() {
  local i=$1 name=${HOSTS[$1]} dir="$TESTBED_STATE/${HOSTS[$1]}" n; n=$(ns "$name")
  mkdir -p "$dir/work"
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
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys.%u
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
  if ! { [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; }; then
    ip netns exec "$n" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  fi
  for _ in $(seq 1 50); do [ -f "$dir/sshd.pid" ] && break; sleep 0.1; done
}

up() {
  "$HERE/packages.sh"
  mkdir -p "$TESTBED_STATE" /run/sshd
  [ -f "$TESTBED_STATE/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C pulumi-qemu-tests -f "$TESTBED_STATE/client_key"
  # "*" as password: no password login, but not a locked account (sshd refuses locked ones).
  id "$PLAIN_USER" >/dev/null 2>&1 || useradd -M -p "*" -d "$TESTBED_STATE/h3/work" -s /bin/sh "$PLAIN_USER"
  id "$ROOT_USER" >/dev/null 2>&1 || useradd -o -u 0 -g 0 -M -p "*" -d "$TESTBED_STATE" -s /bin/sh "$ROOT_USER"
  for i in "${!HOSTS[@]}"; do host_up "$i"; done
  chown -R "$PLAIN_USER" "$TESTBED_STATE/h3/work"
  write_json
  log "hosts up: $(for i in "${!HOSTS[@]}"; do printf '%s=%s ' "${HOSTS[$i]}" "$(addr "$i")"; done)"
}

write_json() {
  local out="$TESTBED_STATE/testbed.json.tmp" sep=""
  {
    printf '{\n  "clientKey": "%s",\n  "rootUser": "%s",\n  "plainUser": "%s",\n  "guest": {"dir": "%s"},\n  "hosts": [' \
      "$TESTBED_STATE/client_key" "$ROOT_USER" "$PLAIN_USER" "$GUEST_DIR"
    for i in "${!HOSTS[@]}"; do
      local name=${HOSTS[$i]} dir="$TESTBED_STATE/${HOSTS[$i]}"
      printf '%s\n    {"name": "%s", "address": "%s", "lanAddress": "%s", "port": 22, "workDir": "%s", "hostKey": "%s"}' \
        "$sep" "$name" "$(addr "$i")" "$(lan_addr "$i")" "$dir/work" "$(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")"
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
