# The started spec of every VM under $root, as "dir<TAB>json" lines.
if (-not (Test-Path -LiteralPath $root)) { exit 0 }
foreach ($d in (Get-ChildItem -LiteralPath $root -Directory)) {
  $f = Join-Path $d.FullName 'spec.json'
  if (Test-Path -LiteralPath $f) { $d.FullName.Replace('\', '/') + "`t" + ((Get-Content -Raw -LiteralPath $f) -replace '\r?\n', '') }
}
exit 0
