# Ends our instance only (Windows has no SIGTERM: both rungs terminate it); prints signalled=0|1.
$proc = Get-Proc (Read-Pid $vm)
if (Test-Ours $vm $proc) { Stop-Process -Id $proc.ProcessId -Force; 'signalled=1'; exit 0 }
'signalled=0'
