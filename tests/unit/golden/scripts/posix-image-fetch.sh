# shellcheck disable=SC2317,SC2154,SC2034
# shellcheck disable=SC2154
EXIT_CANNOT_WRITE=70
EXIT_LOCK_TIMEOUT=75
EXIT_DIGEST_MISMATCH=77
EXIT_DOWNLOAD_CUT=78
EXIT_DOWNLOAD_FAILED=79
EXIT_MISSING_TOOL=80
# <file: vm-lib.sh>
# <file: image-fetch.sh>

# $0 and arguments: ["pulumi-qemu-image-fetch","/Users/ops/.pulumi-qemu/images/cache","sha256-ab.qcow2","sha256","ab","xz","3600","","url"]
