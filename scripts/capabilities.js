#!/usr/bin/env node
// The main job until the Vm resource lands: a capability report of this machine, through the
// package's own transport, with a real boot of the test guest under TCG as proof of "usable".
const fs = require("fs");
const os = require("os");
const path = require("path");
const { LocalTransport } = require("../bin/provider/transport");

const GUEST = path.join(process.env.PULUMI_QEMU_CACHE || path.join(os.homedir(), ".cache/pulumi-qemu"), "guest");
const READY = "PULUMI-QEMU-GUEST-READY";

async function bootGuest(t, accel) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-qemu-caps-"));
  const serial = path.join(dir, "serial.log"), pidfile = path.join(dir, "qemu.pid");
  const started = Date.now();
  const r = await t.exec(["qemu-system-x86_64", "-accel", accel, "-m", "256", "-display", "none", "-no-reboot",
    "-kernel", path.join(GUEST, "vmlinuz"), "-initrd", path.join(GUEST, "initramfs.gz"), "-append", "console=ttyS0 quiet",
    "-serial", `file:${serial}`, "-daemonize", "-pidfile", pidfile]);
  if (r.exitCode !== 0) return { usable: false, reason: r.stderr.trim().split("\n").pop() };
  let seen = "";
  while (Date.now() - started < 30000 && !seen.includes(READY)) {
    await new Promise((res) => setTimeout(res, 200));
    seen = fs.existsSync(serial) ? fs.readFileSync(serial, "utf8") : "";
  }
  try { process.kill(Number(fs.readFileSync(pidfile, "utf8"))); } catch { /* already gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
  return seen.includes(READY)
    ? { usable: true, bootSeconds: (Date.now() - started) / 1000 }
    : { usable: false, reason: `no ready marker on serial within 30 s; last output: ${seen.slice(-200).trim()}` };
}

async function main() {
  const t = new LocalTransport();
  const version = (await t.exec(["qemu-system-x86_64", "--version"])).stdout.split("\n")[0];
  const accelHelp = (await t.exec(["qemu-system-x86_64", "-accel", "help"])).stdout.split("\n").slice(1).filter(Boolean);
  const kvmExists = fs.existsSync("/dev/kvm");
  let kvmAccessible = false;
  try { fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK); kvmAccessible = true; } catch { /* absent or denied */ }
  const report = {
    host: { os: `${os.type()} ${os.release()}`, arch: os.arch(), cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    qemu: { version, accelerators: accelHelp },
    kvm: { present: kvmExists, accessible: kvmAccessible, qemuSupports: accelHelp.includes("kvm"),
      usable: kvmAccessible ? await bootGuest(t, "kvm") : { usable: false, reason: kvmExists ? "/dev/kvm is not readable and writable by this user" : "/dev/kvm does not exist: no KVM on this host" } },
    tcg: { present: true, accessible: true, qemuSupports: accelHelp.includes("tcg"), usable: await bootGuest(t, "tcg") },
  };
  console.log(JSON.stringify(report, null, 2));
}
main().catch((e) => { console.error(e.message); process.exit(1); });
