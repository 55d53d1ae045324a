# <file: prelude.ps1>
if (Test-Path -LiteralPath 'C:/VMs/it''s.part') { (Get-Item -LiteralPath 'C:/VMs/it''s.part').Length } else { 0 }
