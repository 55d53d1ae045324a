# The Windows twin of atomic-write.sh: stdin's raw bytes to a new temp file ($path.tmp-$suffix),
# the byte count checked against $bytes, then moved over $path. Windows has no file modes: the
# file takes the ACL of its directory.
$tmp = $path + '.tmp-' + $suffix
$out = [IO.File]::Open($tmp, 'CreateNew')
try { [Console]::OpenStandardInput().CopyTo($out) } finally { $out.Close() }
$got = (Get-Item -LiteralPath $tmp).Length
if ($got -ne $bytes) { Remove-Item -LiteralPath $tmp -Force; [Console]::Error.WriteLine("short write: $got of $bytes bytes"); exit 1 }
Move-Item -LiteralPath $tmp -Destination $path -Force
