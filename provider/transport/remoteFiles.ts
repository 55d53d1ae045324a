/** File operations as POSIX sh argv, shared by every transport that runs commands remotely. */

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
