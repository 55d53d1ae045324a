# shellcheck disable=SC2154
# Reserves a VM's memory and vCPUs in the host's ledger, under its lock, unless the VMs already
# there (every stack of the SSH user) and this one together would pass the host's memory times
# the ratio: then prints total=, limit=, used= and a holder= line per VM counted, and exits
# EXIT_NO_CAPACITY. An entry <ledger>/vms/<id> holds the VM's state directory, memory bytes,
# vCPUs and owner, a line each. It counts while the pidfile in that directory names a live
# process, or, before there is one, for ten minutes after it was made (a start in progress);
# else it is stale and removed. Arguments: ledger (empty: ~/.pulumi-qemu/ledger), id, state
# directory, memory bytes, vCPUs, ratio in percent, owner.
ledger=${1:-$HOME/.pulumi-qemu/ledger}; id=$2; holder=$3; mem=$4; cpus=$5; ratio=$6; who=$7
mkdir -p "$ledger/vms" || exit "$EXIT_CANNOT_WRITE"
lock="$ledger/lock"
take_lock
total=
if [ -r /proc/meminfo ]; then
  while read -r key value _; do [ "$key" = MemTotal: ] && total=$((value * 1024)) && break; done < /proc/meminfo
else
  total=$(sysctl -n hw.memsize 2>/dev/null)
fi
case "$total" in ''|*[!0-9]*) echo "cannot read the host's memory size (no /proc/meminfo, no sysctl hw.memsize)" >&2; exit "$EXIT_CANNOT_WRITE" ;; esac
used=0; holders=
for f in "$ledger"/vms/*; do
  [ -f "$f" ] || continue
  [ "${f##*/}" = "$id" ] && continue # this VM's own earlier entry: replaced below
  h=; m=0; c=0; o=
  { IFS= read -r h; read -r m; read -r c; IFS= read -r o; } < "$f"
  pid=; [ -r "$h/qemu.pid" ] && read -r pid < "$h/qemu.pid"
  if [ -n "$pid" ]; then
    kill -0 "$pid" 2>/dev/null || { rm -f -- "$f"; continue; }
  elif [ ! -d "$h" ] || [ -n "$(find "$f" -mmin +10 2>/dev/null)" ]; then
    rm -f -- "$f"; continue
  fi
  used=$((used + m)); holders="$holders$o: $m bytes, $c vCPUs$nl"
done
# total * ratio could pass 2^63 on a huge host: a hundredth first, at most 99 bytes lost.
# shellcheck disable=SC2017
limit=$((total / 100 * ratio))
if [ $((used + mem)) -gt "$limit" ]; then
  printf 'total=%s\nlimit=%s\nused=%s\n' "$total" "$limit" "$used"
  printf '%s' "$holders" | while IFS= read -r line; do printf 'holder=%s\n' "$line"; done
  exit "$EXIT_NO_CAPACITY"
fi
printf '%s\n%s\n%s\n%s\n' "$holder" "$mem" "$cpus" "$who" > "$ledger/vms/$id.tmp" && mv -f -- "$ledger/vms/$id.tmp" "$ledger/vms/$id"
