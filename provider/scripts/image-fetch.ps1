# The Windows twin of image-fetch.sh: same duties, same output lines and exit codes. Under the
# entry's lock (its file opened without sharing, held until the script ends), downloads with
# curl.exe (Windows 10 1803 and later ship it; it resumes and takes a CA file), else
# Invoke-WebRequest (no resume: a cut download is discarded, and a private CA needs curl.exe),
# checks the digest with Get-FileHash, decompresses (gz with .NET; xz, zst, bz2 with xz.exe,
# zstd.exe or bzip2.exe on PATH) and leaves "$cache\.$name.ready" for image.ts to check and put
# in place. Values: $cache, $name, $algo, $want, $compression, $limit (s), $cafile ('' for none),
# $via (url|client). The URL comes on stdin after the script: never on a command line.
$url = (New-Object IO.StreamReader([Console]::OpenStandardInput())).ReadLine()
if (-not $url -and $via -ne 'client') { [Console]::Error.WriteLine('no URL on stdin'); exit $EXIT_DOWNLOAD_FAILED }
$final = Join-Path $cache $name; $part = Join-Path $cache ".$name.part"; $ready = Join-Path $cache ".$name.ready"
if (Test-Path -LiteralPath $final) { 'state=cached'; exit 0 }
$deadline = (Get-Date).AddSeconds($limit + 60)
while ($true) {
  try { $lock = [IO.File]::Open((Join-Path $cache ".$name.lock"), 'OpenOrCreate', 'ReadWrite', 'None'); break } catch [IO.IOException] {
    if ((Get-Date) -gt $deadline) { [Console]::Error.WriteLine("waited $($limit + 60) s for the lock of $name"); exit $EXIT_LOCK_TIMEOUT }
    Start-Sleep -Milliseconds 200
  }
}
# Another fetch finished while this one waited, or verified it and has not put it in place yet.
if (Test-Path -LiteralPath $final) { 'state=cached'; exit 0 }
if (Test-Path -LiteralPath $ready) { 'state=ready'; exit 0 }
function Get-Digest($file) { (Get-FileHash -LiteralPath $file -Algorithm $algo.ToUpper()).Hash.ToLower() }
function Get-Size($file) { if (Test-Path -LiteralPath $file) { (Get-Item -LiteralPath $file).Length } else { 0 } }

function Invoke-Download {
  $started = Get-Date
  $curl = Get-Command curl.exe -CommandType Application -ErrorAction SilentlyContinue
  if ($curl) {
    $opts = @('-fsSL', '--connect-timeout', '30', '--max-time', "$limit", '-C', '-', '-o', $part, '-K', '-')
    if ($cafile) { $opts += @('--cacert', $cafile) }
    # curl's config syntax: the URL is quoted (the provider normalised it: no quotes or backslashes).
    "url = `"$url`"" | & $curl.Source @opts
    $rc = $LASTEXITCODE
    if ($rc -eq 0) { return }
    if ($rc -eq 33 -and -not $script:again) { $script:again = $true; Remove-Item -LiteralPath $part -Force; Invoke-Download; return }
    $got = Get-Size $part
    if ($rc -eq 28 -and ((Get-Date) - $started).TotalSeconds -ge $limit - 1) {
      [Console]::Error.WriteLine("the download ran past its time limit of $limit s after $got bytes; the next fetch resumes it"); exit $EXIT_DOWNLOAD_CUT
    }
    if (@(18, 28, 52, 55, 56, 92) -contains $rc) {
      [Console]::Error.WriteLine("the download was cut off (exit $rc) after $got bytes; the next fetch resumes it"); exit $EXIT_DOWNLOAD_CUT
    }
    if (Test-Path -LiteralPath $part) { Remove-Item -LiteralPath $part -Force }
    [Console]::Error.WriteLine("the download failed (curl.exe exit $rc)"); exit $EXIT_DOWNLOAD_FAILED
  }
  if ($cafile) { [Console]::Error.WriteLine('curl.exe is not on the host''s PATH, and caCertificate needs it (Invoke-WebRequest cannot trust a CA of its own)'); exit $EXIT_MISSING_TOOL }
  [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
  try { Invoke-WebRequest -Uri $url -OutFile $part -UseBasicParsing -TimeoutSec $limit } catch {
    if (Test-Path -LiteralPath $part) { Remove-Item -LiteralPath $part -Force }
    [Console]::Error.WriteLine("the download failed: $($_.Exception.Message)"); exit $EXIT_DOWNLOAD_FAILED
  }
}

# What an earlier cut-off fetch kept (or the client sent) is hashed once: whole, it is used as it is.
$got = ''; if (Test-Path -LiteralPath $part) { $got = Get-Digest $part }
if ($via -eq 'url' -and $got -ne $want) { Invoke-Download; 'fetched=1'; $got = Get-Digest $part }
if (-not (Test-Path -LiteralPath $part)) { [Console]::Error.WriteLine("nothing was fetched to $part"); exit $EXIT_DOWNLOAD_FAILED }
if ($got -ne $want) { Remove-Item -LiteralPath $part -Force; "got=$got"; exit $EXIT_DIGEST_MISMATCH }
$tmp = "$ready.tmp"
if ($compression -eq 'none') { Move-Item -LiteralPath $part -Destination $ready; 'state=ready'; exit 0 }
try {
  if ($compression -eq 'gz') {
    $in = [IO.File]::OpenRead($part); $out = [IO.File]::Create($tmp)
    try { (New-Object IO.Compression.GZipStream($in, [IO.Compression.CompressionMode]::Decompress)).CopyTo($out) } finally { $out.Close(); $in.Close() }
  } else {
    $tool = @{ xz = 'xz.exe'; zst = 'zstd.exe'; bz2 = 'bzip2.exe' }[$compression]
    if (-not $tool) { [Console]::Error.WriteLine("unknown compression $compression"); exit $EXIT_DOWNLOAD_FAILED }
    $exe = Get-Command $tool -CommandType Application -ErrorAction SilentlyContinue
    if (-not $exe) { [Console]::Error.WriteLine("$tool is not on the host's PATH (the image is $compression-compressed)"); exit $EXIT_MISSING_TOOL }
    # Start-Process hands the files to the tool as its stdin and stdout: bytes, not PowerShell's text pipeline.
    $p = Start-Process -FilePath $exe.Source -ArgumentList '-dc' -RedirectStandardInput $part -RedirectStandardOutput $tmp -NoNewWindow -Wait -PassThru
    if ($p.ExitCode -ne 0) { throw "$tool exited with code $($p.ExitCode)" }
  }
} catch {
  foreach ($f in @($tmp, $part)) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
  [Console]::Error.WriteLine("could not decompress the image: $($_.Exception.Message)"); exit $EXIT_DOWNLOAD_FAILED
}
Move-Item -LiteralPath $tmp -Destination $ready
Remove-Item -LiteralPath $part -Force
'state=ready'
