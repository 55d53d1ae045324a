# argv: ["mkdir","-p","--","C:/VMs/new dir"]
