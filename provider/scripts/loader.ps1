$in = [Console]::OpenStandardInput(); $b = New-Object byte[] $n; $o = 0
while ($o -lt $n) { $r = $in.Read($b, $o, $n - $o); if ($r -le 0) { [Console]::Error.WriteLine('pulumi-qemu: the script ended early on stdin'); exit $EXIT_SCRIPT_CUT_SHORT }; $o += $r }
& ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString($b)))
