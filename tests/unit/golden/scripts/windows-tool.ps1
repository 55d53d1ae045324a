# argv: ["qemu-img","info","-U","--output=json","C:/VMs/a.qcow2"]
