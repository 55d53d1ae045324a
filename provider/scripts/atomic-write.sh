# Writes stdin to a temp name beside $1 ($1.tmp-$4), checks that it holds $2 bytes, sets mode $3
# and renames it over $1. An upload cut short leaves no file at $1 and removes its temp file.
set -e
tmp="$1.tmp-$4"
trap 'rm -f "$tmp"' EXIT
umask 077
cat > "$tmp"
got=$(wc -c < "$tmp" | tr -d " ")
if [ "$got" != "$2" ]; then echo "short write: $got of $2 bytes" >&2; exit 1; fi
chmod "$3" "$tmp"
mv -f "$tmp" "$1"
trap - EXIT
