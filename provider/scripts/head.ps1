# Up to $bytes bytes from the start of $path on stdout (a header, read without the rest of the file).
$f = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite')
try { $b = New-Object byte[] ([Math]::Min($f.Length, $bytes)); $n = $f.Read($b, 0, $b.Length) } finally { $f.Close() }
$o = [Console]::OpenStandardOutput(); $o.Write($b, 0, $n); $o.Flush()
