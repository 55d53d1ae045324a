# argv: ["test","-e","C:/VMs/a b.qcow2"]
