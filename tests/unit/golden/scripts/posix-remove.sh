# argv: ["rm","-f","--","C:/VMs/it's.qcow2"]
