rm -f -- "$1" "$1".tmp-*
# $0 and arguments: ["upload-cleanup","C:/VMs/base.img.upload-1a2b"]
