# The raw bytes of $path on stdout (Get-Content would decode and re-encode them).
$content = [IO.File]::ReadAllBytes($path)
$stdout = [Console]::OpenStandardOutput()
$stdout.Write($content, 0, $content.Length)
$stdout.Flush()
