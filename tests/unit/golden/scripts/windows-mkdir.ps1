$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$env:Path = $env:Path + ';' + $env:ProgramFiles + '\qemu'
New-Item -ItemType Directory -Force -Path 'C:/VMs/new dir' | Out-Null
