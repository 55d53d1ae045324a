PATH="$PATH:/usr/local/bin:/opt/homebrew/bin:/opt/local/bin"; exec "$@"
# $0 and arguments: ["qemu-tool","qemu-img","info","-U","--output=json","C:/VMs/a.qcow2"]
