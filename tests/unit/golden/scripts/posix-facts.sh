PROBE_CACHE_DIR=.pulumi-qemu-probe
QEMU_DIRS='/usr/local/bin /opt/homebrew/bin /opt/local/bin'
# <file: facts.sh>

# $0 and arguments: ["pulumi-qemu-facts","/Users/ops/.pulumi-qemu"]
