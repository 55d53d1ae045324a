if ln -- "$1" "$2" 2>/dev/null || { [ ! -e "$2" ] && mv -- "$1" "$2"; }; then rm -f -- "$1"; exit 0; fi; rm -f -- "$1"; if [ -e "$2" ]; then echo "$2 appeared during the upload" >&2; exit 3; fi; echo "cannot move the upload to $2" >&2; exit 1
# $0 and arguments: ["upload","C:/VMs/base.img.upload-1a2b","C:/VMs/base.img"]
