/**
 * 6. A command in a guest (issue 31): the test guest (TCG) on h1 with its agent channel and its
 * SSH forwarded; the same `echo` run `repeats` times as a GuestCommand create (the whole provider
 * call: observe, agent session, exec, status) and as the peer a user would reach for: where
 * @pulumi/command's plugin is missing (it is here: see bench/cli.ts), a plain `ssh` of the
 * OpenSSH client to the forwarded port, a fresh connection each, as remote.Command opens one per
 * command. Every run's output is checked, so a fast run that did nothing cannot count.
 */
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import * as guestCommand from "../provider/resources/guestCommand";
import * as vm from "../provider/resources/vm";
import { stateDirName } from "../provider/layout";
import { testbed, GUEST_APPEND } from "../tests/testbed/testbed";
import { connectionTo, type BenchContext } from "./context";
import { median, round, timed } from "./measure";
import { firstForwardPort } from "../tests/helpers/ports";

export interface GuestCommandFigures {
  /** Median of the GuestCommand creates, ms. */
  agentMs: number;
  agentRunsMs: number[];
  /** Median of the peer's runs, ms. */
  peerMs: number;
  peerRunsMs: number[];
  /** What the peer was. */
  peer: string;
}

export async function benchGuestCommand(ctx: BenchContext): Promise<GuestCommandFigures> {
  const bed = testbed();
  const h1 = ctx.hosts[0];
  const host = connectionTo(ctx, h1);
  const keyFile = `${bed.guest.dir}/id_ed25519`;
  const port = firstForwardPort() + 40;
  const made = await vm.create({
    host, name: "qga-bench", memory: "256M", accelerator: "tcg", guestAgent: true,
    kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: GUEST_APPEND,
    ports: [{ host: port, guest: 22 }], guestPrivateKey: readFileSync(keyFile, "utf8"),
    readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, guestAgent: true, timeoutMs: 180000 },
    stopTimeouts: { powerdownMs: 3000, quitMs: 3000 },
  });
  try {
    const target = { host, stateDir: made.outs.stateDir, vm: stateDirName(made.outs.stateDir) };
    const ssh = ["-i", keyFile, "-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", `root@${h1.address}`];
    const agentRuns: number[] = [];
    const peerRuns: number[] = [];
    // In turn, so that drift of the shared machine hits both alike; one unmeasured run of each first.
    for (let i = 0; i <= ctx.sizes.repeats; i++) {
      const ours = await timed(() => guestCommand.create({ ...target, create: `echo run-${i}` }));
      if (ours.value.outs.stdout !== `run-${i}\n`) throw new Error(`guest command bench: GuestCommand printed ${JSON.stringify(ours.value.outs.stdout)}`);
      const peer = await timed(async () => execFileSync("ssh", [...ssh, `echo run-${i}`]).toString());
      if (peer.value !== `run-${i}\n`) throw new Error(`guest command bench: ssh printed ${JSON.stringify(peer.value)}`);
      if (i > 0) { agentRuns.push(round(ours.ms)); peerRuns.push(round(peer.ms)); }
    }
    ctx.log(`guest command: agent ${agentRuns.join(" ")} ms; ssh ${peerRuns.join(" ")} ms`);
    return { agentMs: round(median(agentRuns)), agentRunsMs: agentRuns, peerMs: round(median(peerRuns)), peerRunsMs: peerRuns,
      peer: "plain ssh (OpenSSH client, a fresh connection each) to the guest's forwarded port" };
  } finally {
    await vm.remove(made.id, made.outs);
  }
}
