# <file: prelude.ps1>
New-Item -ItemType Directory -Force -Path 'C:/VMs/new dir' | Out-Null
