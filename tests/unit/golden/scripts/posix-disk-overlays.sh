PATH="$PATH:/usr/local/bin:/opt/homebrew/bin:/opt/local/bin"; export PATH; P=$1; export P; R=$2; shift 2
# A script for sh -c below, which expands it: single quotes on purpose.
# shellcheck disable=SC2016
each='for f do [ "$f" = "$P" ] && continue; printf "F%s\n" "$f"; if out=$(qemu-img info -U --output=json -- "$f" 2>/dev/null); then printf "J%s\n" "$(printf %s "$out" | tr "\n" " ")"; else rc=$?; if [ -e "$f" ]; then printf "E%s\n" "$rc"; else printf "G\n"; fi; fi; done'
for r in "$R"/*; do [ -f "$r" ] || continue; IFS= read -r f < "$r"; [ -e "$f" ] && sh -c "$each" sh "$f"; done
for d do [ -d "$d" ] || continue; find "$d" -type f -name "*.qcow2" -exec sh -c "$each" sh {} +; printf "D%s\n" "$?"; done
exit 0
# $0 and arguments: ["overlays","C:/VMs/disks/base.qcow2","C:/VMs/disks/.base.qcow2.clones","C:/VMs","C:/VMs/disks"]
