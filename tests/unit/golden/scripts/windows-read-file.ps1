# <windows-prelude>
$bytes = [IO.File]::ReadAllBytes('C:/Users/ops/My VMs/vms/web/qmp.port')
$stdout = [Console]::OpenStandardOutput()
$stdout.Write($bytes, 0, $bytes.Length)
$stdout.Flush()
