/**
 * 6. The real image (issue 30): on one host, an Image's download from the testbed's mirror
 * against a plain `curl -o` of the same URL on the same host; and from nothing to SSH answering
 * as cloud-init's user (Image, a clone Disk, a Vm waiting for cloud-init, then the login), with
 * the image not yet in the host's cache and then already there, under the accelerator `auto`
 * picks on this machine.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as disk from "../provider/resources/disk";
import * as image from "../provider/resources/image";
import * as vm from "../provider/resources/vm";
import { sshTransport } from "../provider/transport";
import { guestExec } from "../tests/helpers/guest";
import { startImageMirror } from "../tests/helpers/imageServer";
import { sshOptionsFor, testbed } from "../tests/testbed/testbed";
import { connectionTo, type BenchContext } from "./context";
import { round, timed } from "./measure";

const IMAGE = "debian-12-pulumi-qemu.qcow2";

export interface ImageFigures {
  imageMiB: number;
  curlMs: number;
  fetchMs: number;
  /** Image download / plain curl of the same URL on the host. */
  fetchOverCurl: number;
  uncachedUpToSshMs: number;
  cachedUpToSshMs: number;
  accelerator: string;
}

export async function benchImageBoot(ctx: BenchContext): Promise<ImageFigures> {
  const dir = testbed().debianImage.dir;
  const sha256 = readFileSync(path.join(dir, `${IMAGE}.sha256`), "utf8").trim();
  const [serving, h] = [ctx.hosts[2], ctx.hosts[1]];
  const mirror = await startImageMirror(serving, dir);
  const keys = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-bench-keys-"));
  try {
    const url = mirror.lanUrl(IMAGE);
    const base = connectionTo(ctx, h);
    const t = sshTransport(sshOptionsFor(h));
    await t.exec(["mkdir", "-p", base.workDir]);
    const curl = await timed(() => t.exec(["curl", "-fsS", "-o", `${base.workDir}/curl.img`, url]));
    if (curl.value.exitCode !== 0) throw new Error(`curl on ${h.name}: ${curl.value.stderr}`);
    await t.exec(["rm", "-f", `${base.workDir}/curl.img`]);
    const fetch = await timed(() => image.create({ host: { ...base, workDir: `${base.workDir}/fetch` }, url, sha256 }));

    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keys, "guest")]);
    const key = readFileSync(path.join(keys, "guest"), "utf8");
    let accelerator = "";
    const upToSsh = async (workDir: string, name: string) => {
      const host = { ...base, workDir };
      const img = await image.create({ host, url, sha256 });
      const root = await disk.create({ host, name, backingImage: img.outs.path, size: "3G" });
      const made = await vm.create({
        host, name, memory: "768M", accelerator: "auto", disks: [root.outs.path], ports: [{ guest: 22 }],
        cloudInit: { userData: { users: [{ name: "tester", ssh_authorized_keys: [readFileSync(path.join(keys, "guest.pub"), "utf8").trim()] }] } },
        readiness: { cloudInit: true, guestPort: 22, timeoutMs: 900000 },
      });
      accelerator = String(made.outs.acceleratorInUse ?? "");
      const ssh = made.outs.guestConnection!;
      const seen = await guestExec({ host: ssh.host, port: ssh.port, user: "tester" }, key, ["id", "-un"]);
      if (seen.stdout.trim() !== "tester") throw new Error(`the guest answered ${seen.stdout} ${seen.stderr}`);
      return async () => { await vm.remove(made.id, made.outs); await disk.remove(root.id, root.outs); };
    };
    ctx.log("image: up to SSH, image not in the cache");
    const uncached = await timed(() => upToSsh(`${base.workDir}/uncached`, "deb-uncached"));
    await uncached.value();
    ctx.log("image: up to SSH, image in the cache");
    const cached = await timed(() => upToSsh(`${base.workDir}/uncached`, "deb-cached"));
    await cached.value();
    return {
      imageMiB: round(fetch.value.outs.actualSizeBytes / 2 ** 20), curlMs: round(curl.ms), fetchMs: round(fetch.ms),
      fetchOverCurl: round(fetch.ms / curl.ms, 2), uncachedUpToSshMs: round(uncached.ms), cachedUpToSshMs: round(cached.ms), accelerator,
    };
  } finally {
    mirror.stop();
    rmSync(keys, { recursive: true, force: true });
  }
}
