# The qcow2 images under $dirs whose backing file is $path, one per line.
$files = Get-ChildItem -LiteralPath $dirs -Recurse -File -Filter *.qcow2 -ErrorAction SilentlyContinue | ForEach-Object { $_.FullName } | Sort-Object -Unique
# Windows PowerShell turns a native program's redirected stderr into a terminating error under 'Stop'.
$ErrorActionPreference = 'Continue'
foreach ($f in $files) {
  if ($f -eq $path -or $f -eq $path.Replace('/', '\')) { continue }
  $info = & qemu-img info -U --output=json $f 2>$null | Out-String
  if ($LASTEXITCODE -eq 0 -and ($info | ConvertFrom-Json).'full-backing-filename' -eq $path) { $f }
}
exit 0
