# For each image named (but $P, the base itself): `F<path>`, then `J<the JSON of qemu-img info on one
# line>` (JSON strings hold no raw newline, so its lines join into one), `E<exit status>`, or
# `G` when the file was gone by then (deleted meanwhile: no clone).
for f do
  [ "$f" = "$P" ] && continue
  printf "F%s\n" "$f"
  if out=$(qemu-img info -U --output=json -- "$f" 2>/dev/null); then
    printf "J%s\n" "$(printf %s "$out" | tr "\n" " ")"
  else
    rc=$?
    if [ -e "$f" ]; then printf "E%s\n" "$rc"; else printf "G\n"; fi
  fi
done
