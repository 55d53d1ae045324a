# <windows-prelude>
$f = [IO.File]::Open('C:/VMs/vms/web/serial.log', 'Open', 'Read', 'ReadWrite')
try { $n = [Math]::Min($f.Length, 65536); [void]$f.Seek(-$n, 'End'); $b = New-Object byte[] $n; [void]$f.Read($b, 0, $n) } finally { $f.Close() }
$o = [Console]::OpenStandardOutput(); $o.Write($b, 0, $b.Length); $o.Flush()
