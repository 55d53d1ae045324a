$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$env:Path = $env:Path + ';' + $env:ProgramFiles + '\qemu'
if (Test-Path -LiteralPath 'C:/VMs/a b.qcow2') { exit 0 } else { exit 1 }
