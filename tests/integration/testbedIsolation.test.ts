/**
 * Issue 33: the SSH test hosts are other hosts, not views of this machine. From a host's shell the
 * Pulumi side's temporary files, its repository and its processes cannot be seen; from the Pulumi
 * side a file written on a host is reached only through the transport (its path here is nothing).
 */
import * as assert from "assert";
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { skipBecause } from "../helpers/skip";
import { sshOptionsFor, testbed } from "../testbed/testbed";

describe("the test hosts are hosts of their own", function () {
  this.timeout(60000);
  const bed = testbed();
  const [h1] = bed.hosts;
  const onHost = () => sshTransport(sshOptionsFor(h1));
  after(() => closeAllSshTransports());

  it("from a host's shell, the Pulumi side's temporary files, repository and processes are invisible", async function () {
    if (!h1.isolated) skipBecause(this, "the test hosts share this machine's files and processes (hosts.sh up with PQEMU_TESTBED_SHARED=1)");
    const mark = `pq-iso-${randomBytes(6).toString("hex")}`;
    const dir = mkdtempSync(path.join(tmpdir(), "pq-iso-"));
    writeFileSync(path.join(dir, mark), "the Pulumi side's file");
    const local = spawn("sh", ["-c", "sleep 300", mark], { stdio: "ignore" });
    try {
      const seen = await onHost().exec(["sh", "-c", 'test -e "$1/$2" && echo file; test -e "$3" && echo repository; ps -eo args | grep -F -- "$2" | grep -v grep; ps -e | wc -l', "x", dir, mark, path.resolve(__dirname, "../../../package.json")]);
      const lines = seen.stdout.trim().split("\n");
      assert.deepStrictEqual(lines.slice(0, -1), [], `the host sees: ${seen.stdout}`);
      // Its own processes only: its sshd, this session, the commands above (a machine has hundreds).
      assert.ok(Number(lines[lines.length - 1]) < 20, `the host lists ${lines[lines.length - 1]} processes`);
    } finally {
      local.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("from the Pulumi side, a file written on a host is reached through the transport only", async function () {
    if (!h1.isolated) skipBecause(this, "the test hosts share this machine's files and processes (hosts.sh up with PQEMU_TESTBED_SHARED=1)");
    const file = `${h1.workDir}/pq-iso-${randomBytes(6).toString("hex")}`;
    await onHost().writeFile(file, "written on h1");
    try {
      assert.strictEqual(existsSync(file), false, `${file} is on this machine too`);
      assert.strictEqual((await onHost().readFile(file)).toString(), "written on h1");
      const other = sshTransport(sshOptionsFor(bed.hosts[1]));
      assert.strictEqual((await other.exec(["test", "-e", file])).exitCode, 1, "h2 sees h1's file");
    } finally {
      await onHost().exec(["rm", "-f", "--", file]);
    }
  });
});
