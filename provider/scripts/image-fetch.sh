# shellcheck disable=SC2154
# Brings an image into the host's cache, once however many ask at once: under the entry's lock,
# downloads the published file with curl or wget (or takes the one the client uploaded), checks
# its digest, decompresses it, and leaves it at "$cache/.$name.ready" for the caller to check its
# header and link into place (image.ts); never a half file at "$cache/$name". A cut-off download
# stays at "$cache/.$name.part" and the next fetch resumes it; any other failure keeps nothing.
# Prints state=cached (the entry is there) or state=ready, fetched=1 when this run downloaded it,
# and got=HEX on a digest mismatch.
# Arguments: cache directory, entry name, digest algorithm (sha256|sha512), digest, compression
# (none|gz|xz|zst|bz2), time limit in seconds, CA file (may be empty), via (url|client). The URL
# comes on stdin and reaches curl or wget on theirs: a signed URL is never on a command line.
cache=$1; name=$2; algo=$3; want=$4; compression=$5; limit=$6; cafile=$7; via=$8
IFS= read -r url || [ -n "$url" ] || [ "$via" = client ] || { echo "no URL on stdin" >&2; exit "$EXIT_DOWNLOAD_FAILED"; }
umask 077
mkdir -p -- "$cache" || exit "$EXIT_CANNOT_WRITE"
final="$cache/$name"; part="$cache/.$name.part"; ready="$cache/.$name.ready"
[ -f "$final" ] && { echo state=cached; exit 0; }
lock="$cache/.$name.lock"; lock_wait=$((limit + 60))
take_lock
# Another fetch finished while this one waited, or verified it and has not linked it yet.
[ -f "$final" ] && { echo state=cached; exit 0; }
[ -f "$ready" ] && { echo state=ready; exit 0; }
digest_of() { "${algo}sum" "$1" | { read -r d _; echo "$d"; }; }
command -v "${algo}sum" >/dev/null 2>&1 || { echo "${algo}sum is not on the host's PATH" >&2; exit "$EXIT_MISSING_TOOL"; }

download() {
  if command -v curl >/dev/null 2>&1; then
    fetcher=curl
    set -- curl -fsSL --connect-timeout 30 -C - -o "$part" -K -
    [ -n "$cafile" ] && set -- "$@" --cacert "$cafile"
    cut_codes=" 18 28 52 55 56 92 "
  elif command -v wget >/dev/null 2>&1; then
    fetcher=wget
    set -- wget -nv -c -T 60 -O "$part" -i -
    [ -n "$cafile" ] && set -- "$@" --ca-certificate="$cafile"
    cut_codes=" 4 "
  else
    echo "neither curl nor wget is on the host's PATH" >&2; exit "$EXIT_MISSING_TOOL"
  fi
  command -v timeout >/dev/null 2>&1 && set -- timeout "$limit" "$@"
  # The URL is checked and normalised by the provider (no quotes, backslashes or spaces in it).
  if [ "$fetcher" = curl ]; then printf 'url = "%s"\n' "$url"; else printf '%s\n' "$url"; fi | "$@"; rc=$?
  [ "$rc" = 0 ] && return 0
  # A server that takes no ranges answers a resume with the whole file: start again, once.
  if [ "$rc" = 33 ] && [ -z "${again:-}" ]; then again=1; rm -f -- "$part"; download; return; fi
  got_bytes=$(wc -c < "$part" 2>/dev/null || echo 0)
  if [ "$rc" = 124 ]; then
    echo "the download ran past its time limit of $limit s after $got_bytes bytes; the next fetch resumes it" >&2
    exit "$EXIT_DOWNLOAD_CUT"
  fi
  case "$cut_codes" in *" $rc "*)
    echo "the download was cut off (exit $rc) after $got_bytes bytes; the next fetch resumes it" >&2
    exit "$EXIT_DOWNLOAD_CUT" ;;
  esac
  rm -f -- "$part"
  echo "the download failed (exit $rc)" >&2
  exit "$EXIT_DOWNLOAD_FAILED"
}

# What an earlier cut-off fetch kept (or the client sent) is hashed once: whole, it is used as it
# is; else the download resumes it, and what then arrived is hashed.
got=; [ -f "$part" ] && got=$(digest_of "$part")
if [ "$via" = url ] && [ "$got" != "$want" ]; then download; echo fetched=1; got=$(digest_of "$part"); fi
[ -f "$part" ] || { echo "nothing was fetched to $part" >&2; exit "$EXIT_DOWNLOAD_FAILED"; }
if [ "$got" != "$want" ]; then rm -f -- "$part"; echo "got=$got"; exit "$EXIT_DIGEST_MISMATCH"; fi
case $compression in
  none) mv -- "$part" "$ready"; echo state=ready; exit 0 ;;
  gz) tool=gzip ;; xz) tool=xz ;; zst) tool=zstd ;; bz2) tool=bzip2 ;;
  *) echo "unknown compression $compression" >&2; exit "$EXIT_DOWNLOAD_FAILED" ;;
esac
command -v "$tool" >/dev/null 2>&1 || { echo "$tool is not on the host's PATH (the image is $compression-compressed)" >&2; exit "$EXIT_MISSING_TOOL"; }
if ! "$tool" -dc < "$part" > "$ready.tmp"; then
  rm -f -- "$ready.tmp" "$part"; echo "$tool could not decompress the image" >&2; exit "$EXIT_DOWNLOAD_FAILED"
fi
mv -- "$ready.tmp" "$ready" && rm -f -- "$part"
echo state=ready
