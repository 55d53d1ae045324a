# <file: prelude.ps1>
# pulumi-qemu image-fetch
$cache = 'C:/Users/ops/My VMs/images/cache'
$name = 'sha256-ab.qcow2'
$algo = 'sha256'
$want = 'ab'
$compression = 'xz'
$limit = 3600
$cafile = 'C:/Users/ops/My VMs/images/cache/.ca-01.pem'
$via = 'url'
$EXIT_LOCK_TIMEOUT = 75
$EXIT_DIGEST_MISMATCH = 77
$EXIT_DOWNLOAD_CUT = 78
$EXIT_DOWNLOAD_FAILED = 79
$EXIT_MISSING_TOOL = 80
# <file: image-fetch.ps1>
