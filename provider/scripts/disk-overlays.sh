# For every clone recorded beside the image $1 (in the record directory $2, one file per clone
# naming it) and every qcow2 image under the directories $3..., the records of
# disk-overlay-info.sh (run as EACH), then `D<find's exit status>` per directory (0 as well when
# all it complained of is entries that vanished during the walk).
PATH="$PATH:$QEMU_PATH"; export PATH; P=$1; export P; R=$2; shift 2
for r in "$R"/*; do [ -f "$r" ] || continue; IFS= read -r f < "$r"; [ -e "$f" ] && sh -c "$EACH" sh "$f"; done
# An entry deleted while find walks (another resource's delete in the same directory) is no
# clone, so find's status is forgiven when each of its complaints says only that; any other
# complaint (a directory it cannot read) or a silent failure keeps it, and the delete is refused.
only_vanished() {
  [ -n "$1" ] || return 1
  printf "%s\n" "$1" | while IFS= read -r l; do case $l in *": No such file or directory") ;; *) exit 1 ;; esac; done
}
# A directory inside the first one (a disk's own directory under the working directory), or the
# first again, was walked with it, when no part of the way down is a symbolic link (find follows none): not twice.
within_first() {
  case $1 in "$first"/*) ;; *) return 1 ;; esac
  [ -L "$first" ] && return 1
  rest=${1#"$first"/}; p=$first
  case /$rest/ in */./*|*/../*|*//*) return 1 ;; esac
  while [ -n "$rest" ]; do
    p=$p/${rest%%/*}
    [ -L "$p" ] && return 1
    case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
  done
}
first=$1; i=0
for d do
  i=$((i + 1))
  [ -d "$d" ] || continue
  if [ "$i" -gt 1 ] && { [ "$d" = "$first" ] || within_first "$d"; }; then printf "D0\n"; continue; fi
  { e=$(LC_ALL=C find "$d" -type f -name "*.qcow2" -exec sh -c "$EACH" sh {} + 2>&1 >&3); rc=$?; } 3>&1
  [ -n "$e" ] && printf "%s\n" "$e" >&2
  [ "$rc" -ne 0 ] && only_vanished "$e" && rc=0
  printf "D%s\n" "$rc"
done
exit 0
