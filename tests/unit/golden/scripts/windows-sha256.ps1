# <file: prelude.ps1>
(Get-FileHash -Algorithm SHA256 -LiteralPath 'C:/VMs/base.img').Hash.ToLower()
