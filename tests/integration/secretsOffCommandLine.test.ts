/**
 * Issue 27, what other users of a host can see: a VM whose append, extraArgs (a secret object)
 * and cloud-init hold secrets, on an SSH test host. As another Unix user of that host, no process
 * command line holds any of them and the VM's files cannot be read; the guest still boots with
 * its kernel command line (QEMU read it from the private config file).
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { vmProvider } from "../../sdk/vm";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { guestExec } from "../helpers/guest";
import { firstForwardPort } from "../helpers/ports";
import { vmQemuPids } from "../helpers/processes";
import { GUEST_APPEND, sshOptionsFor, testbed } from "../testbed/testbed";

describe("secrets stay off command lines (real QEMU on an SSH host, looked at as another user)", function () {
  this.timeout(180000);
  const bed = testbed();
  const [h1] = bed.hosts;
  const run = randomBytes(3).toString("hex");
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir: `${h1.workDir}/secrets-${run}` };
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const marks = { append: `AP${randomBytes(6).toString("hex")}`, object: `OB${randomBytes(6).toString("hex")}`, cloud: `CI${randomBytes(6).toString("hex")}` };
  // On the host itself (over SSH): another Unix user there, not on this machine.
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const asOther = async (argv: string[]) => {
    const r = await onHost().exec(["setpriv", "--reuid", bed.plainUser, "--regid", bed.plainUser, "--clear-groups", ...argv]);
    return { status: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
  let vmP: pulumi.dynamic.ResourceProvider;

  before(async () => { vmP = (await roundTripProvider(vmProvider)).provider; });
  after(async () => {
    await sshTransport(sshOptionsFor(h1)).exec(["sh", "-c", `pkill -KILL -f -- "guest=sec-${run}"; rm -rf -- "$1"`, "x", conn.workDir!]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("append, a secret object and user-data: in no command line; the VM's files unreadable; the guest has its command line", async () => {
    const made = await vmP.create!({
      host: conn, name: `sec-${run}`, memory: "256M", accelerator: "tcg",
      kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: `${GUEST_APPEND} pq.token=${marks.append}`,
      extraArgs: ["-object", `secret,id=sec0,data=${marks.object}`],
      cloudInit: { userData: `#!/bin/sh\necho ${marks.cloud} > /root/ran\n` },
      ports: [{ host: firstForwardPort(), guest: 22 }], guestPrivateKey: guestKey,
      readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, timeoutMs: 90000 }, stopTimeouts: { powerdownMs: 0, quitMs: 3000 },
    });
    try {
      assert.strictEqual(made.outs.status, "running", made.outs.statusDetail);
      const ps = await asOther(["ps", "-eo", "args"]);
      assert.strictEqual(ps.status, 0, ps.stderr);
      assert.ok(ps.stdout.includes(`guest=sec-${run}`), "the other user does not see the VM's QEMU at all: the check proves nothing");
      for (const [what, mark] of Object.entries(marks)) assert.ok(!ps.stdout.includes(mark), `${what}'s secret is on a command line another user reads`);
      const cmdlines = (await asOther(["sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"])).stdout;
      for (const [what, mark] of Object.entries(marks)) assert.ok(!cmdlines.includes(mark), `${what}'s secret is in a /proc cmdline`);
      const read = await asOther(["sh", "-c", 'cat "$1"/qemu.cfg "$1"/secret-0 "$1"/cidata-*.iso', "x", made.outs.stateDir]);
      assert.notStrictEqual(read.status, 0);
      assert.match(read.stderr, /Permission denied/, "the files are not there to be denied: the check proves nothing");
      for (const mark of Object.values(marks)) assert.ok(!read.stdout.includes(mark), "another user read the VM's private files");
      // The guest booted with the command line QEMU read from its config file.
      const guestCmdline = (await guestExec(made.outs.guestConnection, guestKey, ["cat", "/proc/cmdline"])).stdout;
      assert.match(guestCmdline, new RegExp(`pq\\.token=${marks.append}`));
      assert.strictEqual((await onHost().exec(["stat", "-c", "%a", `${made.outs.stateDir}/secret-0`])).stdout.trim(), "600");
    } finally {
      await vmP.delete!(made.id, made.outs);
    }
    assert.deepStrictEqual(vmQemuPids(`sec-${run}`), []);
  });
});
