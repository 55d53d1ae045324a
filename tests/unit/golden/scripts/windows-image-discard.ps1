# <file: prelude.ps1>
foreach ($f in @('C:/Users/ops/My VMs/images/cache/.sha256-ab.qcow2.ready', 'C:/Users/ops/My VMs/images/cache/.sha256-ab.qcow2.ready.tmp', 'C:/Users/ops/My VMs/images/cache/.sha256-ab.qcow2.part')) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
