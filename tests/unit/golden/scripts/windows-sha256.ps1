# <windows-prelude>
(Get-FileHash -Algorithm SHA256 -LiteralPath 'C:/VMs/base.img').Hash.ToLower()
