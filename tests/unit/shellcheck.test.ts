/**
 * Every POSIX sh script the package sends to a host, as it is sent, passes shellcheck (the
 * Debian package the set-up installs). Each builder runs with sample arguments; the script is
 * the `sh -c` text (arguments stay positional parameters, so they do not change it). Builders
 * that run one program directly (mkdir, rm, tail, cat, test) send no script.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import { vmLayout } from "../../provider/layout";
import { factsArgv } from "../../provider/host/factsScript";
import { probeRunnerArgv } from "../../provider/host/accelerators/probeRunner";
import { anyQemuArgv, listMembersArgv } from "../../provider/network/switch";
import { forgetCloneArgv, recordCloneArgv, sameFileArgv } from "../../provider/disks/scripts";
import { hostOps } from "../../provider/platform";
import { platformIo } from "../../provider/transport/platformIo";
import { adoptArgv, cleanupArgv, listSpecsArgv, listStateDirsArgv, observeArgv, processArgv, signalArgv, startArgv } from "../../provider/platform/posixVmScripts";
import { portsTakeArgv } from "../../provider/vm/ports";
import { reserveArgv } from "../../provider/vm/capacity";
import { hostScriptsDir, hostScriptText, shScriptParts } from "../../provider/transport/hostScript";
import { readdirSync } from "fs";
import { reidentifyArgv } from "../../provider/vm/reidentify";

const layout = vmLayout("/w", "a");
const SCRIPTS: Record<string, string[]> = {
  "vm start": startArgv(layout, "a", "{}", ["qemu-system-x86_64"], ""),
  "vm observe": observeArgv([{ layout, name: "a" }]),
  "vm signal": signalArgv(layout, "a", "TERM"),
  "vm cleanup": cleanupArgv(layout, "a", "all"),
  "vm adopt": adoptArgv(layout, "a", 1, "2", "{}", "/s"),
  "vm list specs": listSpecsArgv("/w/vms"),
  "vm list state directories": listStateDirsArgv("/w/vms"),
  "ports: take from the ledger": portsTakeArgv("/w/vms/a.0a1b2c3d", ["tcp", "udp"]),
  "capacity: reserve in the ledger": reserveArgv(vmLayout("/w", "a.0a1b2c3d"), 2 ** 28, 1, "project p, stack s, resource a (VM a)"),
  "image: fetch": hostOps({ platform: "posix" }).imageFetch({ cacheDir: "/w/images/cache", entry: "sha256-ab.qcow2", algorithm: "sha256", hex: "ab", compression: "xz", timeoutMs: 60000, caFile: "/w/ca.pem", via: "host" }),
  "image: promote": hostOps({ platform: "posix" }).imagePromote("/w/images/cache", "sha256-ab.qcow2"),
  "image: discard": hostOps({ platform: "posix" }).imageDiscard("/w/images/cache", "sha256-ab.qcow2"),
  "adopt: a process": processArgv("1"),
  "host facts": factsArgv("/w"),
  "probe runner": probeRunnerArgv("/w/p", ["qemu-system-x86_64"]),
  "network: a qemu-system": anyQemuArgv(),
  "network: members": listMembersArgv("/w/networks/n"),
  "disk: move if absent": hostOps({ platform: "posix" }).moveIfAbsent("/w/t", "/w/d"),
  "disk: remove upload": hostOps({ platform: "posix" }).removeUpload("/w/t"),
  "disk: overlays": hostOps({ platform: "posix" }).overlays(["/w"], "/w/d"),
  "disk: same file": sameFileArgv("/w/d", ["/w/e"]),
  "disk: record clone": recordCloneArgv("/w/b", "/w/c", "e"),
  "disk: forget clone": forgetCloneArgv("/w/b", "e"),
  "file: qemu tool": platformIo("posix").tool(["qemu-img", "info", "/w/d"]),
  "file: sha256": platformIo("posix").sha256("/w/d"),
  "file: atomic write": platformIo("posix").atomicWrite("/w/d", 10, 0o600, "x"),
  // Run by disk-overlays.sh as sh -c "$EACH", with P in the environment.
  "disk: overlay info (nested)": ["sh", "-c", hostScriptText("disk-overlay-info.sh")],
  // Run in a guest resumed from a WarmState, by its agent (as /bin/sh -c).
  "guest: reidentify": ["sh", "-c", ...reidentifyArgv("a", 1, [{ savedMac: "52:54:00:12:34:56", mac: "52:54:0a:00:00:0a", cidr: "10.0.0.10/24" }]).slice(2)],
};

function shellcheck(script: string): string {
  const r = spawnSync("shellcheck", ["-s", "sh", "-f", "gcc", "-"], { input: script, encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck is not installed (the set-up installs it: npm run setup): ${r.error.message}`);
  return r.stdout.trim();
}

describe("shellcheck on every sh script sent to a host", () => {
  for (const [name, argv] of Object.entries(SCRIPTS)) {
    it(name, () => {
      assert.deepStrictEqual(argv.slice(0, 2), ["sh", "-c"], `${name} is not an sh script`);
      assert.strictEqual(shellcheck(argv[2]), "", `${name}:\n${argv[2]}`);
    });
  }
  it("every sh file of provider/scripts is in a script checked above", () => {
    const sent = Object.values(SCRIPTS).map((argv) => argv[2]).join("\n");
    assert.deepStrictEqual(readdirSync(hostScriptsDir()).filter((f) => f.endsWith(".sh") && !sent.includes(shScriptParts(f).body)), []);
  });

  it("the check itself finds an unquoted expansion", () => {
    assert.match(shellcheck('rm -f $1'), /SC2086/);
  });
});
