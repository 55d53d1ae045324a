STOPPED_STATES='internal-error guest-panicked'
RUN_LIMIT_TICKS=200
HUNG_LINE='pulumi-qemu: the probe guest did not finish within 10 s'
EXIT_CANNOT_WRITE=70
EXIT_PROBE_HUNG=124
QEMU_PATH=/usr/local/bin:/opt/homebrew/bin:/opt/local/bin
# <file: probe-runner.sh>

# $0 and arguments: ["pulumi-qemu-probe-runner","/Users/ops/.pulumi-qemu/.pulumi-qemu-probe","qemu-system-x86_64","-accel","hvf","-serial","stdio"]
