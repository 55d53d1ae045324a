for f in "$1"/*/spec.json; do [ -f "$f" ] && printf "%s\t%s\n" "${f%/spec.json}" "$(tr -d "\n" < "$f")"; done; exit 0
# $0 and arguments: ["specs","/Users/ops/.pulumi-qemu/vms"]
