set -e; (sha256sum "$1" 2>/dev/null || shasum -a 256 "$1") | cut -d" " -f1
# $0 and arguments: ["sha256","C:/VMs/base.img"]
