/**
 * A YAML program through the real CLI and the provider plugin (issue 34): the package installed
 * from `npm pack` into a project of its own, `runtime: yaml`, the plugin from node_modules. A Host
 * per test host (credentials from secret stack config), a Disk and a Vm with a forwarded port on
 * h1, a Fleet of 3 over the 3 hosts. Preview shows what starts; up; SSH into each guest; a new
 * `memory` previews and applies as a restart; refresh sees a killed member; destroy leaves nothing.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "fs";
import * as path from "path";
import { guestExec } from "../helpers/guest";
import { filesUnder } from "../helpers/hostFiles";
import { killProcess, vmQemuPids } from "../helpers/processes";
import { GUEST_APPEND } from "../testbed/testbed";
import { hostScratch } from "./hostScratch";
import { installPackage, packTarball, PULUMI_SCRIPT, userProjectEnv } from "./userProject";

interface Member { name: string; host: string; sshHost: string; sshPort: number; status: string }

describe("e2e: a YAML program through the provider plugin (npm pack, real CLI)", function () {
  this.timeout(30 * 60 * 1000);
  const { bed, run, root, workDirs } = hostScratch("yaml");
  const [project, state] = ["project", "state"].map((d) => path.join(root, d));
  const [vmName, fleetName] = [`yv-${run}`, `yf-${run}`];
  const members = [0, 1, 2].map((i) => `${fleetName}-${i}`);
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");

  const env = userProjectEnv(project, state, "yaml");
  const pulumi = (args: string[], input?: string) => {
    try {
      return execFileSync("node", [PULUMI_SCRIPT, ...args], { cwd: project, env, input, stdio: ["pipe", "pipe", "pipe"] }).toString();
    } catch (e) {
      const err = e as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`pulumi ${args.join(" ")}: ${String(err.stdout ?? "")}${String(err.stderr ?? "")}`.slice(-6000));
    }
  };
  const outputs = () => JSON.parse(pulumi(["stack", "output", "--json", "--show-secrets"]));
  const answers = async (host: string, port: number) => (await guestExec({ host, port }, guestKey, ["hostname"])).exitCode === 0;
  const guest = (hostGuestDir: string) => [
    `kernel: ${hostGuestDir}/vmlinuz`, `initrd: ${hostGuestDir}/initramfs.gz`, `append: ${GUEST_APPEND}`,
    "readiness:", "  serialPattern: PULUMI-QEMU-GUEST-READY", "  guestPort: 22", "  timeoutMs: 300000",
    "stopTimeouts:", "  powerdownMs: 1000", "guestPrivateKey: ${guestKey}"];
  const indent = (lines: string[], n: number) => lines.map((l) => " ".repeat(n) + l).join("\n");

  function writeProgram(): void {
    mkdirSync(project, { recursive: true });
    // h1 from the stack's qemu:* config alone; h2 and h3 say everything, the key from secret config.
    const hosts = bed.hosts.map((h, i) => (i === 0 ? "  h1:\n    type: qemu:index:Host" : `  h${i + 1}:
    type: qemu:index:Host
    properties:
      address: ${h.address}
      port: ${h.port}
      user: ${bed.rootUser}
      privateKey: \${hostKey}
      hostKey: ${JSON.stringify(h.hostKey)}
      workDir: ${workDirs[i]}`)).join("\n");
    writeFileSync(path.join(project, "Pulumi.yaml"), `name: yaml-lab
runtime: yaml
plugins:
  providers:
    - name: qemu
      path: ./node_modules/pulumi-qemu/plugin
config:
  memory:
    type: string
    default: 192M
  guestKey:
    type: string
    secret: true
  hostKey:
    type: string
    secret: true
resources:
${hosts}
  disk:
    type: qemu:index:Disk
    properties:
      host: \${h1.connection}
      name: ${vmName}-disk
      backingImage: ${bed.hosts[0].guestDir}/base.qcow2
  vm:
    type: qemu:index:Vm
    properties:
      host: \${h1.connection}
      name: ${vmName}
      memory: \${memory}
      accelerator: auto
      disks:
        - \${disk.path}
      ports:
        - guest: 22
${indent(guest(bed.hosts[0].guestDir), 6)}
  ${fleetName}:
    type: qemu:index:Fleet
    properties:
      hosts:
        h1: \${h1}
        h2: \${h2}
        h3: \${h3}
      count: 3
      template:
        baseImage: ${bed.guest.dir}/base.qcow2
        memory: \${memory}
        accelerator: auto
${indent(guest(bed.hosts[0].guestDir), 8)}
outputs:
  vmPorts: \${vm.forwardedPorts}
  vmPid: \${vm.pid}
  members: \${${fleetName}.members}
`);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "yaml-lab", version: "1.0.0", private: true }));
    installPackage(project, packTarball(root));
  }

  it("preview says what starts; up; SSH; memory -> restart; refresh sees a kill; destroy leaves nothing", async () => {
    assert.ok(new Set(bed.hosts.map((h) => h.guestDir)).size === 1, "the program names one guest directory for every host");
    writeProgram();
    mkdirSync(state);
    pulumi(["stack", "init", "dev"]);
    // Credentials reach the plugin as provider config; the secret ones stay secret.
    const h1 = bed.hosts[0];
    pulumi(["config", "set", "qemu:host", `ssh://${bed.rootUser}@${h1.address}:${h1.port}`]);
    pulumi(["config", "set", "qemu:hostKey", h1.hostKey]);
    pulumi(["config", "set", "qemu:workDir", workDirs[0]]);
    pulumi(["config", "set", "--secret", "qemu:privateKey"], readFileSync(bed.clientKey, "utf8"));
    pulumi(["config", "set", "--secret", "hostKey"], readFileSync(bed.clientKey, "utf8"));
    pulumi(["config", "set", "--secret", "guestKey"], guestKey);

    const preview = pulumi(["preview", "--non-interactive"]);
    for (const name of ["vm", ...members]) assert.match(preview, new RegExp(`\\+\\s+qemu:index:Vm ${name} create`), preview);
    assert.match(preview, new RegExp(`\\+\\s+qemu:index:Fleet ${fleetName} create`));
    assert.deepStrictEqual(vmQemuPids(vmName), [], "preview started a VM");

    pulumi(["up", "--yes", "--non-interactive"]);
    const up = outputs();
    const ms: Member[] = up.members;
    assert.deepStrictEqual(ms.map((m) => [m.name, m.host, m.status]), members.map((n, i) => [n, `h${i + 1}`, "running"]));
    const [forward] = up.vmPorts as { host: number; guest: number }[];
    assert.strictEqual(forward.guest, 22);
    assert.ok(await answers(bed.hosts[0].address, forward.host), `vm does not answer SSH on ${bed.hosts[0].address}:${forward.host}`);
    for (const m of ms) assert.ok(await answers(m.sshHost, m.sshPort), `${m.name} does not answer SSH on ${m.sshHost}:${m.sshPort}`);
    const stateFile = readdirSync(path.join(state, ".pulumi/stacks/yaml-lab"), { recursive: true }).map(String).find((f) => f.endsWith("dev.json"))!;
    const stored = readFileSync(path.join(state, ".pulumi/stacks/yaml-lab", stateFile), "utf8");
    assert.ok(!stored.includes("PRIVATE KEY"), "a private key is in the state in clear text");

    // A new memory: the preview says the restart, the update does it.
    pulumi(["config", "set", "memory", "224M"]);
    const change = pulumi(["preview", "--non-interactive"]);
    for (const name of [vmName, ...members]) assert.match(change, new RegExp(`pulumi-qemu: VM ${name}: the update restarts it \\(memory changed\\)`), change);
    const pid = vmQemuPids(vmName);
    pulumi(["up", "--yes", "--non-interactive"]);
    assert.notDeepStrictEqual(vmQemuPids(vmName), pid, "vm was not restarted");
    assert.strictEqual(outputs().vmPid, vmQemuPids(vmName)[0]);

    // A member killed behind Pulumi's back: refresh records it stopped, up starts it again.
    for (const p of vmQemuPids(members[1])) killProcess(p);
    pulumi(["refresh", "--yes", "--non-interactive"]);
    // (A component's outputs are not refreshed: the member Vms' own state says it.)
    const vms = JSON.parse(pulumi(["stack", "export"])).deployment.resources.filter((r: { type: string }) => r.type === "qemu:index:Vm");
    assert.deepStrictEqual(members.map((n) => vms.find((r: { outputs: { name: string } }) => r.outputs.name === n)?.outputs.status), ["running", "stopped", "running"]);
    pulumi(["up", "--yes", "--non-interactive"]);
    assert.strictEqual(vmQemuPids(members[1]).length, 1, `${members[1]} was not started again`);

    pulumi(["destroy", "--yes", "--non-interactive"]);
    for (const name of [vmName, ...members]) assert.deepStrictEqual(vmQemuPids(name), [], `${name} still runs`);
    const left = (await Promise.all(workDirs.map((d) => filesUnder(d, "*/.pulumi-qemu-probe/*")))).flat();
    assert.deepStrictEqual(left, [], "destroy left files on the hosts");
  });
});
