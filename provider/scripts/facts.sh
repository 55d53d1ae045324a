# Every fact the accelerator detectors need, in one round trip, as key=value lines (Linux,
# macOS, FreeBSD; Windows hosts run facts.ps1). $1: the working directory whose probe cache
# (PROBE_CACHE_DIR in it) is read.
set +e
echo "os=$(uname -s)"
echo "arch=$(uname -m)"
echo "kernel=$(uname -r)"
echo "user=$(id -un)"
echo "home=$HOME"
echo "groups=$(id -Gn)"
if [ -r /proc/cpuinfo ]; then
  echo "cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cpu_virt_flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(vmx|svm)$' | sort -u | tr '\n' ' ')"
else
  echo "cpu_model=$(sysctl -n machdep.cpu.brand_string 2>/dev/null || sysctl -n hw.model 2>/dev/null)"
fi
echo "cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null)"
if [ -r /proc/meminfo ]; then
  echo "memory_bytes=$(awk '/^MemTotal:/{printf "%.0f\n", $2 * 1024}' /proc/meminfo)"
  echo "memory_available_bytes=$(awk '/^MemAvailable:/{printf "%.0f\n", $2 * 1024}' /proc/meminfo)"
else
  echo "memory_bytes=$(sysctl -n hw.memsize 2>/dev/null || sysctl -n hw.physmem 2>/dev/null)"
fi
if [ -e /dev/kvm ]; then
  echo "kvm_device=present"
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo "kvm_access=rw"; else echo "kvm_access=denied"; fi
  echo "kvm_owner=$(stat -c '%U:%G %a' /dev/kvm 2>/dev/null)"
else
  echo "kvm_device=absent"
fi
# Which module serves /dev/kvm: kvm_intel or kvm_amd (hardware), or another such as kvm_pvm.
for m in /sys/module/kvm /sys/module/kvm_*; do [ -d "$m" ] && echo "kernel_module=${m##*/}"; done
[ -e /dev/HAX ] && echo "haxm_device=present"
hv=$(sysctl -n kern.hv_support 2>/dev/null) && echo "hv_support=$hv"
if [ "$(uname -s)" = Darwin ]; then
  echo "os_version=$(sw_vers -productVersion 2>/dev/null)"
  # An Apple Silicon Mac says so even to a shell that Rosetta 2 runs as x86_64.
  echo "apple_silicon=$(sysctl -n hw.optional.arm64 2>/dev/null || echo 0)"
  echo "translated=$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)"
fi
# -accel help only for the binary of the host's own architecture: hardware accelerators run only
# there, and each QEMU start costs a fraction of a second. NATIVE_BINARIES: arch=binary pairs.
machine=$(uname -m); native=qemu-system-$machine
for pair in $NATIVE_BINARIES; do case "$pair" in "$machine="*) native=${pair#*=} ;; esac; done
seen=" "
for dir in $(echo "$PATH" | tr ':' ' ') $QEMU_DIRS; do
  for f in "$dir"/qemu-system-*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    case "$seen" in *" $name "*) continue ;; esac
    seen="$seen$name "
    echo "qemu.$name.path=$f"
    echo "qemu.$name.version=$("$f" --version 2>/dev/null | head -n1)"
    [ "$name" = "$native" ] && echo "qemu.$name.accel=$("$f" -accel help 2>/dev/null | tail -n +2 | tr '\n' ' ')"
  done
done
# UEFI firmware for aarch64 guests: QEMU's own copy beside its binaries (Homebrew, MacPorts,
# source builds), then Debian's and Fedora's packages.
for fw in /opt/homebrew/share/qemu/edk2-aarch64-code.fd /usr/local/share/qemu/edk2-aarch64-code.fd \
  /opt/local/share/qemu/edk2-aarch64-code.fd /usr/share/qemu/edk2-aarch64-code.fd \
  /usr/share/qemu-efi-aarch64/QEMU_EFI.fd /usr/share/AAVMF/AAVMF_CODE.fd /usr/share/edk2/aarch64/QEMU_EFI.fd; do
  [ -r "$fw" ] && { echo "firmware.aarch64=$fw"; break; }
done
echo "qemu_img=$(command -v qemu-img)"
if [ -n "$1" ] && [ -d "$1/$PROBE_CACHE_DIR" ]; then
  for f in "$1/$PROBE_CACHE_DIR"/*.json; do [ -f "$f" ] && echo "probe_cache=$(cat "$f")"; done
fi
exit 0
