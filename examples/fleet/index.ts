// A fleet of test VMs across SSH hosts: one base image per host (shared, checksum-verified),
// a linked clone and a VM per member, host ports that stay with their member, and an Ansible
// inventory and ssh config out. Optionally runs a command in every guest with @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import * as qemu from "pulumi-qemu";

// lanAddress: where the other hosts reach this one, for the members' private network (default `address`).
interface HostConfig { name: string; address: string; port?: number; user?: string; hostKey: string; workDir?: string; lanAddress?: string }

const config = new pulumi.Config();
const hosts = config.requireObject<HostConfig[]>("hosts");
const privateKey = config.getSecret("privateKey") ?? pulumi.secret(readFileSync(config.require("privateKeyFile"), "utf8"));
const guestDir = config.get("guestDir") ?? path.join(os.homedir(), ".cache/pulumi-qemu/guest");
const guestKeyFile = config.get("guestKeyFile") ?? path.join(guestDir, "id_ed25519");
// Any qcow2 or raw image; the tiny test guest boots from its kernel and ignores the disk. Or a
// published one: `baseImageUrl` and `baseImageSha256` (each host fetches it once into its cache;
// `baseImageCaFile` trusts a private mirror's CA).
const baseImageUrl = config.get("baseImageUrl");
const baseImage: string | qemu.FleetImageSource = baseImageUrl
  ? { url: baseImageUrl, sha256: config.require("baseImageSha256"), ...(config.get("baseImageCaFile") ? { caCertificate: readFileSync(config.require("baseImageCaFile"), "utf8") } : {}) }
  : config.get("baseImage") ?? path.join(guestDir, "base.qcow2");
// `userData`: cloud-init user-data for every member (the tiny guest runs a `#!/bin/sh` one).
const userData = config.get("userData");
// Where the guest's kernel and initramfs are on the hosts (direct kernel boot reads them there).
const hostGuestDir = config.get("hostGuestDir") ?? guestDir;
// `pulumi config set guestAgent true`: every member gets the QEMU guest agent's channel, a
// GuestCommand that reports its addresses and a GuestFile (`guestConfig`, its content). With
// `privateOnly` (and a network) the members have no forwarded ports at all: only the agent reaches them.
const guestAgent = config.getBoolean("guestAgent") ?? false;
const privateOnly = config.getBoolean("privateOnly") ?? false;

const fleet = new qemu.Fleet("ci", {
  hosts: Object.fromEntries(hosts.map((h) => [h.name, new qemu.Host(h.name, {
    address: h.address, port: h.port, user: h.user ?? "root", privateKey, hostKey: h.hostKey, workDir: h.workDir,
  })])),
  count: config.getNumber("count") ?? 6,
  placement: (config.get("placement") as qemu.Placement | undefined) ?? "spread",
  privateKeyFile: guestKeyFile,
  rollingUpdate: config.getBoolean("rollingUpdate") ?? false,
  // `pulumi config set networkSubnet 10.77.0.0/24` puts every member on one private network.
  ...(config.get("networkSubnet") ? { network: {
    subnet: config.require("networkSubnet"),
    hostAddresses: Object.fromEntries(hosts.flatMap((h) => (h.lanAddress ? [[h.name, h.lanAddress]] : []))),
  } } : {}),
  // `pulumi config set snapshot clean` snapshots every member (disk and memory) once it runs;
  // then each change of `revert` brings the whole fleet back to it in place, in seconds.
  // `pulumi config set warmStart true` (with guestAgent): members resume a guest saved once per host instead of booting.
  warmStart: config.getBoolean("warmStart") ?? false,
  ...(config.get("snapshot") ? { snapshot: { name: config.require("snapshot"), memory: true, revertTrigger: config.get("revert") ?? "0" } } : {}),
  template: {
    baseImage,
    memory: config.get("memory") ?? "192M",
    accelerator: "auto",
    ...(config.get("baseImage") ? {} : {
      // no_timer_check: an emulated guest on a busy host can fail Linux's IO-APIC timer check and panic.
      kernel: path.join(hostGuestDir, "vmlinuz"), initrd: path.join(hostGuestDir, "initramfs.gz"), append: "console=ttyS0 quiet no_timer_check",
      readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", ...(privateOnly ? {} : { guestPort: 22 }), ...(guestAgent ? { guestAgent: true } : {}),
        timeoutMs: config.getNumber("readinessTimeoutMs") ?? 300000 },
      stopTimeouts: { powerdownMs: 1000 }, // the tiny guest cannot hear ACPI powerdown
    }),
    ...(userData ? { cloudInit: { userData } } : {}),
    guestPrivateKey: pulumi.secret(readFileSync(guestKeyFile, "utf8")),
    ...(privateOnly ? { ports: [] } : {}),
    guestAgent,
  },
});

// Through each member's guest agent: no SSH, no forwarded port, no guest network needed.
// `pulumi config set --secret guestToken ...` reaches each command's environment (a secret in the state).
const guestToken = config.getSecret("guestToken");
const reports = guestAgent ? fleet.vms.map((vm, i) => new qemu.GuestCommand(`report-${i}`, {
  vm, create: "echo joined > /run/pq-member; [ -n \"$TOKEN\" ] && echo \"$TOKEN\" > /run/pq-token; ip -o -4 addr show | awk '$2 != \"lo\" {print $4}'",
  ...(guestToken ? { environment: { TOKEN: guestToken } } : {}),
})) : [];
const configs = guestAgent ? fleet.vms.map((vm, i) => new qemu.GuestFile(`config-${i}`, {
  vm, path: "/etc/pq-fleet.conf", content: config.get("guestConfig") ?? "role=member\n", mode: "0640",
})) : [];
// `pulumi config set failMember 1`: a command that fails in that member, on purpose.
const failMember = config.getNumber("failMember");
if (guestAgent && failMember !== undefined) {
  new qemu.GuestCommand(`fail-${failMember}`, { vm: fleet.vms[failMember], create: "echo 'step one ok'; echo 'disk full on purpose' >&2; exit 3" });
}
export const guestReports = pulumi.all(reports.map((r) => r.stdout));
export const guestConfigDigests = pulumi.all(configs.map((c) => c.sha256));
export const guestAddresses = pulumi.all(fleet.vms.map((vm) => vm.guestInterfaces));

// `pulumi config set runCommand true` runs `uname -a` in every guest with remote.Command. It
// needs the pulumi-resource-command plugin, which Pulumi downloads from GitHub.
if (config.getBoolean("runCommand")) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { remote } = require("@pulumi/command") as typeof import("@pulumi/command");
  fleet.vms.forEach((vm, i) => new remote.Command(`uname-${i}`, {
    connection: vm.guestConnection.apply((c) => c!), create: "uname -a",
  }));
}

export const members = fleet.members;
export const placement = fleet.placement;
export const ansibleInventory = fleet.ansibleInventory;
export const sshConfig = fleet.sshConfig;
