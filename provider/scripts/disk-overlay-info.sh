# For each image named (but $P, the base itself): `F<path>`, then `B<its backing file>` (a
# relative name joined to the directory of the image, as QEMU resolves it), `N` when it has none (no
# qcow2 header, or none named in it), `E<why>` when that cannot be told, or `G` when the file was
# gone by then (deleted meanwhile: no clone). The header is read, not qemu-img run: qcow2 (and
# qcow v1) keep the offset of the backing name (bytes 8-15) and length (16-19) big-endian, and two
# tiny programs per image cost far less than starting qemu-img, which each VM start paid per image.
LC_ALL=C; export LC_ALL
nl="
"
for f do
  [ "$f" = "$P" ] && continue
  printf "F%s\n" "$f"
  if ! h=$(od -An -v -N20 -tu1 -- "$f" 2>/dev/null); then
    if [ -e "$f" ]; then printf "Eits header could not be read\n"; else printf "G\n"; fi
    continue
  fi
  # shellcheck disable=SC2086 # the bytes, one word each
  set -- $h
  if [ $# -lt 4 ] || [ "$1.$2.$3.$4" != 81.70.73.251 ]; then printf "N\n"; continue; fi
  if [ $# -lt 20 ]; then printf "Ea qcow2 header cut short\n"; continue; fi
  shift 8
  off=0; for b in "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"; do off=$((off * 256 + b)); done
  len=$(($9 * 16777216 + ${10} * 65536 + ${11} * 256 + ${12}))
  if [ "$len" -eq 0 ]; then printf "N\n"; continue; fi
  if [ "$len" -gt 1023 ] || [ "$off" -lt 20 ]; then printf "Ea backing file field out of range\n"; continue; fi
  if ! name=$(dd if="$f" bs=1 skip="$off" count="$len" 2>/dev/null); then
    if [ -e "$f" ]; then printf "Eits backing file name could not be read\n"; else printf "G\n"; fi
    continue
  fi
  # A name with a newline (or a NUL, or cut short) is not what it seems: never judged by a part of it.
  if [ "${#name}" -ne "$len" ] || case $name in *"$nl"*) true ;; *) false ;; esac; then printf "Ea backing file name this search cannot read whole\n"; continue; fi
  case $name in /*) ;; *) name=${f%/*}/$name ;; esac
  printf "B%s\n" "$name"
done
