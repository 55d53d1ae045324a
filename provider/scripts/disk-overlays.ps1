# For every qcow2 image under $dirs but $path itself, the records disk-overlay-info.sh writes on
# POSIX: `F<path>`, then `J<qemu-img's JSON on one line>`, `E<exit status>`, or `G` when the file
# was gone by then; then `D0` per directory searched, or `D1` when the search met anything but an
# entry that vanished meanwhile (a directory it cannot read): the caller refuses then.
# Windows PowerShell turns a native program's redirected stderr into a terminating error under 'Stop'.
$ErrorActionPreference = 'Continue'
foreach ($d in $dirs) {
  if (-not (Test-Path -LiteralPath $d -PathType Container)) { continue }
  $errs = $null
  $files = Get-ChildItem -LiteralPath $d -Recurse -File -Filter *.qcow2 -ErrorAction SilentlyContinue -ErrorVariable errs | ForEach-Object { $_.FullName }
  foreach ($f in $files) {
    if ($f -eq $path -or $f -eq $path.Replace('/', '\')) { continue }
    "F$f"
    $out = & qemu-img info -U --output=json $f 2>$null
    if ($LASTEXITCODE -eq 0) { 'J' + (($out | Out-String) -replace "`r?`n", ' ') }
    elseif (Test-Path -LiteralPath $f) { "E$LASTEXITCODE" }
    else { 'G' }
  }
  $failed = @($errs | Where-Object { $_.Exception -isnot [System.Management.Automation.ItemNotFoundException] })
  if ($failed.Count -gt 0) { 'D1' } else { 'D0' }
}
exit 0
