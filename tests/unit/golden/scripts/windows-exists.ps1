# <file: prelude.ps1>
if (Test-Path -LiteralPath 'C:/VMs/a b.qcow2') { exit 0 } else { exit 1 }
