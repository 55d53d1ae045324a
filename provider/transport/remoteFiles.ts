/** File operations as POSIX sh argv (and PowerShell scripts for Windows), shared by every transport that runs commands remotely. */
import { psQuote } from "./quote";

/**
 * Writes stdin to a temp name beside `path`, checks the byte count, then renames. An upload cut
 * short leaves no file at `path` and removes its temp file.
 */
export function atomicWriteArgv(path: string, expectedBytes: number, mode: number, tempSuffix: string): string[] {
  const script = [
    'set -e',
    'tmp="$1.tmp-$4"',
    'trap \'rm -f "$tmp"\' EXIT',
    'umask 077',
    'cat > "$tmp"',
    'got=$(wc -c < "$tmp" | tr -d " ")',
    'if [ "$got" != "$2" ]; then echo "short write: $got of $2 bytes" >&2; exit 1; fi',
    'chmod "$3" "$tmp"',
    'mv -f "$tmp" "$1"',
    'trap - EXIT',
  ].join("\n");
  return ["sh", "-c", script, "sh", path, String(expectedBytes), mode.toString(8), tempSuffix];
}

export function readFileArgv(path: string): string[] {
  return ["cat", "--", path];
}

/**
 * The Windows twin of atomicWriteArgv, as a PowerShell script body: stdin's raw bytes to a new
 * temp file, the byte count checked, then moved over `path`. Windows has no file modes: the
 * file takes the ACL of its directory.
 */
export function atomicWriteScriptWindows(path: string, expectedBytes: number, tempSuffix: string): string {
  return String.raw`$path = ${psQuote(path)}
$tmp = $path + ${psQuote(`.tmp-${tempSuffix}`)}
$out = [IO.File]::Open($tmp, 'CreateNew')
try { [Console]::OpenStandardInput().CopyTo($out) } finally { $out.Close() }
$got = (Get-Item -LiteralPath $tmp).Length
if ($got -ne ${expectedBytes}) { Remove-Item -LiteralPath $tmp -Force; [Console]::Error.WriteLine("short write: $got of ${expectedBytes} bytes"); exit 1 }
Move-Item -LiteralPath $tmp -Destination $path -Force
`;
}

/** A file's raw bytes on stdout (Get-Content would decode and re-encode them). */
export function readFileScriptWindows(path: string): string {
  return String.raw`$bytes = [IO.File]::ReadAllBytes(${psQuote(path)})
$stdout = [Console]::OpenStandardOutput()
$stdout.Write($bytes, 0, $bytes.Length)
$stdout.Flush()
`;
}
