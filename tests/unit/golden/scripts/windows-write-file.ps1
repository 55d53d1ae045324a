# <windows-prelude>
$path = 'C:/Users/ops/My VMs/.pulumi-qemu-probe/x.json'
$tmp = $path + '.tmp-abc123'
$out = [IO.File]::Open($tmp, 'CreateNew')
try { [Console]::OpenStandardInput().CopyTo($out) } finally { $out.Close() }
$got = (Get-Item -LiteralPath $tmp).Length
if ($got -ne 42) { Remove-Item -LiteralPath $tmp -Force; [Console]::Error.WriteLine("short write: $got of 42 bytes"); exit 1 }
Move-Item -LiteralPath $tmp -Destination $path -Force
