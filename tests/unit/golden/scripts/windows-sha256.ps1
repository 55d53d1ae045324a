$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$env:Path = $env:Path + ';' + $env:ProgramFiles + '\qemu'
(Get-FileHash -Algorithm SHA256 -LiteralPath 'C:/VMs/base.img').Hash.ToLower()
