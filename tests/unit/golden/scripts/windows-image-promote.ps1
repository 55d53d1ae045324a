# <file: prelude.ps1>
if (Test-Path -LiteralPath 'C:/Users/ops/My VMs/images/cache/sha256-it''s.qcow2') { Remove-Item -LiteralPath 'C:/Users/ops/My VMs/images/cache/.sha256-it''s.qcow2.ready' -Force } else { Move-Item -LiteralPath 'C:/Users/ops/My VMs/images/cache/.sha256-it''s.qcow2.ready' -Destination 'C:/Users/ops/My VMs/images/cache/sha256-it''s.qcow2' }
