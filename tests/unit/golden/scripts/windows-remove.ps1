# <file: prelude.ps1>
if (Test-Path -LiteralPath 'C:/VMs/it''s.qcow2') { Remove-Item -LiteralPath 'C:/VMs/it''s.qcow2' -Force }
