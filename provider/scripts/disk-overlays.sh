# For every clone recorded beside the image $1 (in the record directory $2, one file per clone
# naming it) and every qcow2 image under the directories $3..., the records of
# disk-overlay-info.sh (run as EACH), then `D<find's exit status>` per directory.
PATH="$PATH:$QEMU_PATH"; export PATH; P=$1; export P; R=$2; shift 2
for r in "$R"/*; do [ -f "$r" ] || continue; IFS= read -r f < "$r"; [ -e "$f" ] && sh -c "$EACH" sh "$f"; done
for d do [ -d "$d" ] || continue; find "$d" -type f -name "*.qcow2" -exec sh -c "$EACH" sh {} +; printf "D%s\n" "$?"; done
exit 0
