if [ -e "$2" ]; then rm -f -- "$1"; echo "$2 appeared during the upload" >&2; exit 1; fi; mv -- "$1" "$2"
# $0 and arguments: ["upload","C:/VMs/base.img.upload-1a2b","C:/VMs/base.img"]
