import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { closeAllSshTransports, LocalTransport, sshTransport } from "../../provider/transport";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { transportContract } from "./transportContract";

const localDir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-local-"));
after(() => rmSync(localDir, { recursive: true, force: true }));
after(() => closeAllSshTransports());

transportContract("local", () => new LocalTransport(), () => localDir);

for (const host of testbed().hosts) {
  transportContract(`ssh ${testbed().rootUser}@${host.name} (uid 0)`, () => sshTransport(sshOptionsFor(host)), () => host.workDir);
}

const [h1, , h3] = testbed().hosts;
transportContract("ssh root@h1 (login shell bash, which sources ~/.bashrc)",
  () => sshTransport(sshOptionsFor(h1, { user: "root" })), () => h1.workDir);
transportContract(`ssh ${testbed().plainUser}@h3 (non-root, login shell dash)`,
  () => sshTransport(sshOptionsFor(h3, { user: testbed().plainUser })), () => h3.workDir);
