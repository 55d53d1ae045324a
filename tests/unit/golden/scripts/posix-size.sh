wc -c < "$1" 2>/dev/null || echo 0
# $0 and arguments: ["size","C:/VMs/it's.part"]
