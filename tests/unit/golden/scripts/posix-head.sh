# argv: ["head","-c","65536","--","C:/VMs/base.img"]
