// Quickstart: one VM on this machine. The host's capability report picks the accelerator
// ("auto"); the guest is the project's tiny test guest unless `image` points to a disk image.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import * as qemu from "pulumi-qemu";

const config = new pulumi.Config();
const guestDir = config.get("guestDir") ?? path.join(os.homedir(), ".cache/pulumi-qemu/guest");
const guestKeyFile = config.get("guestKeyFile") ?? path.join(guestDir, "id_ed25519");
const sshPort = config.getNumber("sshPort") ?? 2222;
const image = config.get("image"); // a qcow2 or raw image on this machine to boot instead

const host = new qemu.Host("local", { workDir: config.get("workDir") });
const capabilities = new qemu.HostCapabilities("local-capabilities", { host: host.connection });

// A linked clone keeps the image itself untouched.
const disk = image ? new qemu.Disk("quickstart-root", { host: host.connection, backingImage: image }) : undefined;

const vm = new qemu.Vm("quickstart", {
  host: host.connection,
  cpus: config.getNumber("cpus") ?? 1,
  memory: config.get("memory") ?? "256M",
  accelerator: "auto",
  disks: disk ? [disk.path] : [],
  ...(image ? {} : {
    kernel: path.join(guestDir, "vmlinuz"),
    initrd: path.join(guestDir, "initramfs.gz"),
    // no_timer_check: an emulated guest on a busy host can fail Linux's IO-APIC timer check and panic.
    append: "console=ttyS0 quiet no_timer_check",
  }),
  ports: [{ host: sshPort, guest: 22 }],
  readiness: image ? { guestPort: 22, timeoutMs: 300000 } : { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22 },
  guestPrivateKey: pulumi.secret(readFileSync(guestKeyFile, "utf8")),
  // The tiny guest has no ACPI button driver: do not wait the default 30 s for a powerdown it
  // cannot hear before the stop ladder moves on to QMP quit. A real image keeps the default.
  ...(image ? {} : { stopTimeouts: { powerdownMs: 2000 } }),
});

export const recommendedAccelerator = capabilities.recommended;
export const accelerators = capabilities.accelerators.apply((all) =>
  all.map((a) => `${a.name}: ${a.usable ? "usable" : `not usable - ${a.reason}`}`));
export const vmStatus = vm.status;
export const acceleratorInUse = vm.acceleratorInUse;
export const serialLog = vm.serialLog;
// The tiny guest makes a new host key at every boot: do not pin it in known_hosts.
export const ssh = `ssh -i ${guestKeyFile} -p ${sshPort} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1`;
