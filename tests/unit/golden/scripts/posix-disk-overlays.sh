# shellcheck disable=SC2016
EACH='# <file: disk-overlay-info.sh>
'
QEMU_PATH=/usr/local/bin:/opt/homebrew/bin:/opt/local/bin
# <file: disk-overlays.sh>

# $0 and arguments: ["pulumi-qemu-disk-overlays","C:/VMs/disks/base.qcow2","C:/VMs/disks/.base.qcow2.clones","C:/VMs","C:/VMs/disks"]
