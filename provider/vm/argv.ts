/**
 * The QEMU command line of a VM: a pure function of the spec, the accelerators to try and the
 * state-directory layout. Values inside `-opt a=b,c=d` strings are escaped the QEMU way.
 */
import { QEMU_ACCEL_NAME, type AcceleratorName } from "../host/accelerators/types";
import type { Platform } from "../transport";
import { hostOps } from "../platform";
import { WINDOWS_QMP_ADDRESS, WINDOWS_QMP_PORT } from "../platform/windowsVmScripts";
import { cloudInitSeedPath, type VmLayout } from "../layout";
import { GUEST_AGENT_CHARDEV, type VmSpec } from "./spec";
import { optionValue as ov } from "../qemu/optionValue";
import { hubSocket, memberSocket } from "../layout";
import { macFor } from "../subnet";
import { secretsToFiles } from "../qemu/secretObjects";

export interface ArgvContext {
  /** Path or name of qemu-system-<arch> on the host. */
  qemuBinary: string;
  /** Concrete accelerators in order of preference; QEMU takes the first that initializes. */
  accelerators: string[];
  layout: VmLayout;
  /** Default "posix". Windows QEMU cannot daemonize and has no Unix sockets (see WINDOWS_QMP_PORT). */
  platform?: Platform;
  /** UEFI firmware for an aarch64 guest that boots from disk (no `kernel`). */
  firmware?: string;
  /** The host's working directory: where the switches of private networks live. */
  workDir?: string;
  /** The guest's RAM in a WarmState's memory file: the build writes it (share), a resume maps it copy-on-write and waits for the devices' state. */
  warmMemory?: { path: string; share: boolean; incoming: boolean };
}

/** The id of the RAM's memory backend when it is a file (warmMemory). */
export const WARM_MEMORY_ID = "pq-ram";

/** The RAM in a file, and a resume's wait for the devices' state (provider/vm/warm.ts sends it). */
function warmMemoryArgs(spec: VmSpec, context: ArgvContext): string[] {
  const m = context.warmMemory;
  if (!m) return [];
  return ["-object", `memory-backend-file,id=${WARM_MEMORY_ID},size=${spec.memoryBytes / 2 ** 20}M,mem-path=${ov(m.path)},share=${m.share ? "on" : "off"}`,
    ...(m.incoming ? ["-incoming", "defer"] : [])];
}

/**
 * A VM made from a WarmState tells its guest it is a copy: a VM generation ID (a new one at each
 * QEMU start) on which Linux reseeds its random number generator. ACPI machines only.
 */
function vmGenerationArgs(spec: VmSpec): string[] {
  return spec.warm && (spec.arch === "x86_64" || spec.arch === "i386") ? ["-device", "vmgenid,guid=auto"] : [];
}


const DEFAULT_MACHINE: Record<string, string> = { x86_64: "q35", i386: "q35", aarch64: "virt", arm: "virt", riscv64: "virt" };

function diskArgs(spec: VmSpec, layout: VmLayout): string[] {
  const args: string[] = [];
  if (spec.disks.some((d) => d.interface === "scsi")) args.push("-device", "virtio-scsi-pci,id=scsi0");
  spec.disks.forEach((d, i) => {
    const id = `disk${i}`;
    const options = [`file=${ov(d.path)}`, ...(d.format ? [`format=${d.format}`] : []), ...(d.readOnly ? ["readonly=on"] : [])];
    if (d.interface === "virtio" || d.interface === "ide") {
      args.push("-drive", [...options, `if=${d.interface}`, "media=disk", `id=${id}`].join(","));
    } else {
      args.push("-drive", [...options, "if=none", `id=${id}`].join(","));
      args.push("-device", d.interface === "scsi" ? `scsi-hd,drive=${id},bus=scsi0.0` : `nvme,drive=${id},serial=${id}`);
    }
  });
  if (spec.cdrom) args.push("-drive", `file=${ov(spec.cdrom)},if=ide,media=cdrom,readonly=on,id=cdrom0`);
  if (spec.cloudInit) args.push("-drive", `file=${ov(cloudInitSeedPath(layout, spec.cloudInit))},format=raw,if=virtio,media=disk,readonly=on,id=cidata`);
  return args;
}

function networkArgs(spec: VmSpec, context: ArgvContext): string[] {
  return spec.networks.flatMap((n, i) => {
    const id = `net${i}`;
    if (n.type === "private") {
      // A datagram socket pair with this network's switch on the host; no root, no tap.
      const local = memberSocket(context.layout, n.network);
      const remote = hubSocket(context.workDir ?? "", n.network, n.address);
      return ["-netdev", `dgram,id=${id},local.type=unix,local.path=${ov(local)},remote.type=unix,remote.path=${ov(remote)}`,
        "-device", `virtio-net-pci,netdev=${id},mac=${macFor(n.address)}`];
    }
    const backend = n.type === "user"
      ? ["user", `id=${id}`, ...(n.ports ?? []).map((p) => `hostfwd=${p.protocol}:${p.hostAddress}:${p.host}-:${p.guest}`)]
      : n.type === "bridge" ? ["bridge", `id=${id}`, `br=${n.bridge}`]
        : ["tap", `id=${id}`, `ifname=${n.ifname}`, "script=no", "downscript=no"];
    return ["-netdev", backend.join(","), "-device", `virtio-net-pci,netdev=${id}`];
  });
}

/**
 * Without a declared `cpu`: an aarch64 guest gets a 64-bit CPU (the virt machine's default is a
 * 32-bit Cortex-A15): the host's own under one hardware accelerator, else "max" (which is the
 * host's under kvm and hvf, and the richest emulated one under tcg). Under hvf an x86_64 guest
 * gets the host's CPU too; everything else keeps QEMU's default.
 */
function defaultCpu(spec: VmSpec, accelerators: string[]): string | undefined {
  const only = accelerators.length === 1 ? accelerators[0] : undefined;
  if (spec.arch === "aarch64") return only === "kvm" || only === "hvf" ? "host" : "max";
  if (spec.arch === "x86_64" && only === "hvf") return "host";
  return undefined;
}

function qmpArgs(context: ArgvContext): string[] {
  return hostOps({ platform: context.platform ?? "posix" }).unixSockets
    ? ["-qmp", `unix:${ov(context.layout.qmpSocket)},server=on,wait=off`]
    : ["-qmp", `tcp:${WINDOWS_QMP_ADDRESS}:${WINDOWS_QMP_PORT},server=on,wait=off`];
}

/** The guest agent's virtio-serial port, on a Unix socket in the state directory (mode of the directory: the SSH user's only). */
function guestAgentArgs(spec: VmSpec, layout: VmLayout): string[] {
  if (!spec.guestAgent) return [];
  return ["-chardev", `socket,id=${GUEST_AGENT_CHARDEV},path=${ov(layout.qgaSocket)},server=on,wait=off`,
    "-device", "virtio-serial-pci,id=pq-vserial", "-device", `virtserialport,bus=pq-vserial.0,chardev=${GUEST_AGENT_CHARDEV},name=org.qemu.guest_agent.0`];
}

/** What QEMU's -readconfig parser takes as a value: in double quotes, no quote or line break inside, at most 1023 bytes, not empty. */
export function fitsReadConfig(value: string): boolean {
  return value !== "" && !/["\r\n]/.test(value) && Buffer.byteLength(value) <= 1023;
}

/**
 * The VM's config file (layout.readConfig, private to the SSH user): the kernel command line,
 * which often holds tokens, kept off QEMU's command line, which `ps` shows every local user of
 * the host. Undefined when there is nothing to keep there, or `append` does not fit the file's
 * syntax (it then stays on the command line: see appendExposure).
 */
export function qemuReadConfig(spec: VmSpec): string | undefined {
  if (spec.append === undefined || !fitsReadConfig(spec.append)) return undefined;
  return `[machine]\n  append = "${spec.append}"\n`;
}

/** Why `append` goes on QEMU's command line, for the CLI output; undefined when it does not. */
export function appendExposure(spec: VmSpec): string | undefined {
  if (!spec.append || qemuReadConfig(spec) !== undefined) return undefined;
  return "its append holds a double quote or a line break, or is longer than 1023 bytes, which QEMU's config file cannot carry: " +
    "it goes on QEMU's command line, where every local user of the host can read it (ps)";
}

export function qemuArgv(spec: VmSpec, context: ArgvContext): string[] {
  const { layout } = context;
  const machine = spec.machine ?? DEFAULT_MACHINE[spec.arch];
  const cpu = spec.cpu ?? defaultCpu(spec, context.accelerators);
  const firmware = context.firmware && spec.arch === "aarch64" && !spec.kernel ? ["-bios", context.firmware] : [];
  return [
    context.qemuBinary,
    "-name", `guest=${ov(layout.name)}`,
    "-nodefaults", "-no-user-config",
    ...(machine || context.warmMemory ? ["-machine", [machine, ...(context.warmMemory ? [`memory-backend=${WARM_MEMORY_ID}`] : [])].filter(Boolean).join(",")] : []),
    ...context.accelerators.flatMap((a) => ["-accel", QEMU_ACCEL_NAME[a as AcceleratorName] ?? a]),
    ...(cpu ? ["-cpu", cpu] : []),
    "-smp", String(spec.cpus),
    "-m", `${spec.memoryBytes / 2 ** 20}M`,
    "-display", "none",
    "-chardev", `file,id=serial0,path=${ov(layout.serialLog)}`,
    "-serial", "chardev:serial0",
    ...qmpArgs(context),
    "-pidfile", layout.pidfile,
    // Every run-state change goes to a file, so a refresh learns the state from one shell
    // command for many VMs instead of a QMP session per VM.
    "-trace", "enable=runstate_set", "-D", layout.qemuLog,
    // CPU resets too, to tell a reset loop (a pattern: QEMU builds without the event ignore it).
    "-trace", "enable=guest_cpu_rese*",
    // On Windows the start script detaches QEMU itself.
    ...(hostOps({ platform: context.platform ?? "posix" }).daemonize ? ["-daemonize"] : []),
    ...firmware,
    ...diskArgs(spec, layout),
    ...(spec.kernel ? ["-kernel", spec.kernel] : []),
    ...(spec.initrd ? ["-initrd", spec.initrd] : []),
    ...(spec.append === undefined ? [] : qemuReadConfig(spec) !== undefined ? ["-readconfig", layout.readConfig] : ["-append", spec.append]),
    ...networkArgs(spec, context),
    ...guestAgentArgs(spec, layout),
    ...vmGenerationArgs(spec),
    ...warmMemoryArgs(spec, context),
    ...secretsToFiles(spec.extraArgs, layout.dir).args,
  ];
}
