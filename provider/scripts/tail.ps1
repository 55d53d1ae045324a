# Up to $bytes bytes from the end of $path (opened with write sharing: QEMU keeps its logs open).
$f = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite')
try { $n = [Math]::Min($f.Length, $bytes); [void]$f.Seek(-$n, 'End'); $b = New-Object byte[] $n; [void]$f.Read($b, 0, $n) } finally { $f.Close() }
$o = [Console]::OpenStandardOutput(); $o.Write($b, 0, $b.Length); $o.Flush()
