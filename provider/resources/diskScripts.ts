/** The Disk resource's host scripts for POSIX sh and Windows PowerShell. Pure: golden-tested. */
import { POSIX_QEMU_PATH, psQuote, psScriptArgv, type Platform } from "../transport";

/** Renames an uploaded temp file to its place unless something appeared there meanwhile (then the temp goes). */
export function moveIfAbsentArgv(platform: Platform, temp: string, path: string): string[] {
  if (platform === "windows") {
    return psScriptArgv(String.raw`$temp = ${psQuote(temp)}; $path = ${psQuote(path)}
if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $temp -Force; [Console]::Error.WriteLine("$path appeared during the upload"); exit 1 }
Move-Item -LiteralPath $temp -Destination $path
`);
  }
  return ["sh", "-c", 'if [ -e "$2" ]; then rm -f -- "$1"; echo "$2 appeared during the upload" >&2; exit 1; fi; mv -- "$1" "$2"', "upload", temp, path];
}

/** Removes an upload's temp file and the writer's own temp beside it (`<temp>.tmp-*`), left when a timeout ended it. */
export function removeUploadArgv(platform: Platform, temp: string): string[] {
  if (platform === "windows") {
    return psScriptArgv(String.raw`$temp = ${psQuote(temp)}
Get-ChildItem -LiteralPath (Split-Path -LiteralPath $temp) -File | Where-Object { $_.FullName -eq $temp.Replace('/', '\') -or $_.Name.StartsWith((Split-Path -Leaf $temp) + '.tmp-') } | Remove-Item -Force
`);
  }
  return ["sh", "-c", 'rm -f -- "$1" "$1".tmp-*', "upload-cleanup", temp];
}

/** qcow2 images under `dirs` whose backing file is `path`, one per line. */
export function overlaysArgv(platform: Platform, dirs: string[], path: string): string[] {
  if (platform === "windows") {
    return psScriptArgv(String.raw`$path = ${psQuote(path)}
$files = Get-ChildItem -LiteralPath @(${dirs.map(psQuote).join(", ")}) -Recurse -File -Filter *.qcow2 -ErrorAction SilentlyContinue | ForEach-Object { $_.FullName } | Sort-Object -Unique
# Windows PowerShell turns a native program's redirected stderr into a terminating error under 'Stop'.
$ErrorActionPreference = 'Continue'
foreach ($f in $files) {
  if ($f -eq $path -or $f -eq $path.Replace('/', '\')) { continue }
  $info = & qemu-img info -U --output=json $f 2>$null | Out-String
  if ($LASTEXITCODE -eq 0 -and ($info | ConvertFrom-Json).'full-backing-filename' -eq $path) { $f }
}
exit 0
`);
  }
  const script = `PATH="$PATH:${POSIX_QEMU_PATH}"; p=$1; shift; ` +
    'for d in "$@"; do find "$d" -type f -name "*.qcow2" 2>/dev/null; done | sort -u | while read -r f; do [ "$f" = "$p" ] && continue; ' +
    'qemu-img info -U --output=json "$f" 2>/dev/null | grep -qF -- "\\"full-backing-filename\\": \\"$p\\"" && echo "$f"; done; exit 0';
  return ["sh", "-c", script, "overlays", path, ...dirs];
}
