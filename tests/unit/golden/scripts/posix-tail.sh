# argv: ["tail","-c","65536","C:/VMs/vms/web/serial.log"]
