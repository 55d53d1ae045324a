# shellcheck disable=SC2154
# Allocates forwarded host ports from the host's ledger, shared by every stack of the SSH user,
# under its lock. For each protocol argument (tcp or udp): from a random start in [lo, hi], the
# first port that no live ledger entry holds and no socket on the host has bound (any user's:
# /proc/net where there is one, else netstat). An entry is <ledger>/ports/<proto>-<port> holding
# its holder's directory (a VM's state directory); it is live while that directory exists or for
# ten minutes after it was made (a create in progress makes its directory after allocating).
# Prints port=N per argument, in order. Arguments: ledger (empty: ~/.pulumi-qemu/ledger), holder,
# lo, hi, then the protocols.
ledger=${1:-$HOME/.pulumi-qemu/ledger}; holder=$2; lo=$3; hi=$4; shift 4
mkdir -p "$ledger/ports" || exit "$EXIT_CANNOT_WRITE"
lock="$ledger/lock"
take_lock
# Ports bound on the host, as " proto-port " words.
if [ -r /proc/net/tcp ]; then
  bound=$(for f in tcp tcp6 udp udp6; do
    [ -r "/proc/net/$f" ] || continue
    while read -r _ local _; do
      case "$local" in *:*) printf ' %s-%d ' "${f%6}" "0x${local##*:}" ;; esac
    done < "/proc/net/$f"
  done)
else
  bound=$(LC_ALL=C netstat -an 2>/dev/null | while read -r proto _ _ local _; do
    case "$proto" in tcp*|udp*) printf ' %s-%s ' "$(printf %.3s "$proto")" "${local##*[.:]}" ;; esac
  done)
fi
live() {
  [ -f "$1" ] || return 1
  IFS= read -r h < "$1"
  [ -n "$h" ] && [ -d "$h" ] && return 0
  [ -z "$(find "$1" -mmin +10 2>/dev/null)" ]
}
span=$((hi - lo + 1))
chosen=" "
for proto in "$@"; do
  start=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
  i=0; port=
  while [ "$i" -lt "$span" ]; do
    c=$((lo + (start + i) % span)); i=$((i + 1))
    case "$bound$chosen" in *" $proto-$c "*) continue ;; esac
    live "$ledger/ports/$proto-$c" && continue
    port=$c; break
  done
  [ -n "$port" ] || { echo "no free $proto port in $lo-$hi on this host: every one is bound or held in the ledger $ledger" >&2; exit "$EXIT_CANNOT_WRITE"; }
  printf '%s\n' "$holder" > "$ledger/ports/$proto-$port" || exit "$EXIT_CANNOT_WRITE"
  chosen="$chosen$proto-$port "
  echo "port=$port"
done
