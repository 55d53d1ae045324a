/**
 * A forward bound to one address of an SSH host (issue 28): readiness probes the guest port there
 * (it used to probe 127.0.0.1, where nothing listens, and waited until its timeout), and
 * guestConnection names that address, through which the guest answers SSH. Real QEMU (TCG), the
 * tiny guest, serialized provider, SSH test host h1.
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
import { killProcess, liveQemuPids } from "../helpers/processes";
import { GUEST_APPEND, sshOptionsFor, testbed } from "../testbed/testbed";

describe("a forward on one host address (serialized provider, real QEMU on an SSH test host)", function () {
  this.timeout(300000);
  const bed = testbed();
  const h1 = bed.hosts[0];
  const run = randomBytes(3).toString("hex");
  const workDir = `${h1.workDir}/fwd-${run}`;
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir };
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  let vmP: pulumi.dynamic.ResourceProvider;
  before(async () => { vmP = (await roundTripProvider(vmProvider)).provider; });
  after(async () => {
    for (const pid of liveQemuPids(`/fwd-${run}/`)) killProcess(pid);
    await sshTransport(sshOptionsFor(h1)).exec(["rm", "-rf", "--", workDir]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("gets ready through the bound address, and guestConnection names it", async () => {
    const port = firstForwardPort() + 40;
    const vm = await vmP.create!({
      host: conn, name: "bound", memory: "192M", accelerator: "tcg",
      kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: GUEST_APPEND,
      ports: [{ host: port, guest: 22, hostAddress: h1.address }],
      readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, timeoutMs: 90000 },
      guestPrivateKey: guestKey, stopTimeouts: { powerdownMs: 0, quitMs: 3000 },
    });
    assert.strictEqual(vm.outs.status, "running");
    assert.deepStrictEqual([vm.outs.guestConnection.host, vm.outs.guestConnection.port], [h1.address, port]);
    const r = await guestExec(vm.outs.guestConnection, guestKey, ["hostname"]);
    assert.strictEqual(r.exitCode, 0, r.stderr);
    await vmP.delete!(vm.id, vm.outs);
  });
});
