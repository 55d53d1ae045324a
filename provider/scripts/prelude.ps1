$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$env:Path = $env:Path + ';' + $env:ProgramFiles + '\qemu'
