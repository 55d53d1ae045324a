# Shared paths of the testbed. Sourced, not run.
CACHE="${PULUMI_QEMU_CACHE:-$HOME/.cache/pulumi-qemu}"
# Runtime state of the test hosts (keys, sshd configs, working directories).
TESTBED_STATE="${PULUMI_QEMU_TESTBED:-/tmp/pulumi-qemu-testbed}"
GUEST_DIR="$CACHE/guest"
log() { echo "testbed: $*" >&2; }
