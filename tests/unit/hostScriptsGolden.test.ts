/**
 * Golden files for what each host-script builder sends, POSIX sh (Linux and macOS run the same
 * ones) and Windows PowerShell (decoded from its -EncodedCommand):
 * tests/unit/golden/scripts/<case>.sh|.ps1. The scripts themselves are the files of
 * provider/scripts, each shown here as `# <file: NAME>`; what a golden holds is what the builder
 * adds: the values it sets, the files in their order, and the arguments. UPDATE_GOLDEN=1
 * rewrites them. PowerShell cannot run here, so every .ps1 file and every PowerShell golden is
 * also checked for balanced brackets and quotes, which catches the usual slip.
 */
import * as assert from "assert";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { factsArgv } from "../../provider/host/factsScript";
import { probeRunnerArgv } from "../../provider/host/accelerators/probeRunner";
import { windowsFactsArgv } from "../../provider/host/windowsFacts";
import { hostOps } from "../../provider/platform";
import { decodePsScript, platformIo, type Platform } from "../../provider/transport";
import { hostScriptsDir, hostScriptText, shScriptParts } from "../../provider/transport/hostScript";
import { psScriptArgv, windowsInvocation } from "../../provider/transport/windows";
import { adoptArgv, cleanupArgv, listSpecsArgv, observeArgv, processArgv, signalArgv, startArgv } from "../../provider/platform/posixVmScripts";
import { portsTakeArgv } from "../../provider/vm/ports";
import { reserveArgv } from "../../provider/vm/capacity";
import { vmLayout } from "../../provider/layout";
import { cleanupScriptArgv, listSpecsScriptArgv, observeScriptArgv, signalScriptArgv, startScriptArgv } from "../../provider/platform/windowsVmScripts";

import { reidentifyArgv } from "../../provider/vm/reidentify";
const DIR = path.join(__dirname, "../../../tests/unit/golden/scripts");
const mac = vmLayout("/Users/ops/.pulumi-qemu", "web");
const win = vmLayout("C:/Users/ops/My VMs", "web");
const qemu = ["qemu-system-x86_64", "-name", "guest=web", "-pidfile", win.pidfile, "-qmp", "tcp:127.0.0.1:@QMP_PORT@,server=on,wait=off"];

const SCRIPT_FILES = readdirSync(hostScriptsDir()).filter((f) => /\.(sh|ps1)$/.test(f));

/** A file's text as a builder sends it: sh files without their leading shellcheck directives (they go first). */
const sentText = (file: string): string => (file.endsWith(".sh") ? shScriptParts(file).body : hostScriptText(file));

/** The text a script argv runs (the sh -c script with its arguments after it, or the decoded PowerShell), each host script file named. */
function text(argv: string[]): string {
  const ps = decodePsScript(argv);
  let body = ps ?? (argv[0] === "sh" && argv[1] === "-c" ? `${argv[2]}\n# $0 and arguments: ${JSON.stringify(argv.slice(3))}\n` : `# argv: ${JSON.stringify(argv)}\n`);
  for (const file of [...SCRIPT_FILES].sort((a, b) => sentText(b).length - sentText(a).length)) {
    body = body.split(sentText(file)).join(`# <file: ${file}>\n`);
  }
  return body;
}

const files = (p: Platform, tag: string) => ({
  [`${tag}-exists`]: platformIo(p).exists("C:/VMs/a b.qcow2"),
  [`${tag}-mkdir`]: platformIo(p).mkdir("C:/VMs/new dir"),
  [`${tag}-remove`]: platformIo(p).remove("C:/VMs/it's.qcow2"),
  [`${tag}-tail`]: platformIo(p).tail("C:/VMs/vms/web/serial.log", 65536),
  [`${tag}-sha256`]: platformIo(p).sha256("C:/VMs/base.img"),
  [`${tag}-head`]: platformIo(p).head("C:/VMs/base.img", 65536),
  [`${tag}-size`]: platformIo(p).size("C:/VMs/it's.part"),
  [`${tag}-tool`]: platformIo(p).tool(["qemu-img", "info", "-U", "--output=json", "C:/VMs/a.qcow2"]),
  [`${tag}-disk-move-if-absent`]: hostOps({ platform: p }).moveIfAbsent("C:/VMs/base.img.upload-1a2b", "C:/VMs/base.img"),
  [`${tag}-disk-overlays`]: hostOps({ platform: p }).overlays(["C:/VMs", "C:/VMs/disks"], "C:/VMs/disks/base.qcow2"),
  [`${tag}-disk-upload-cleanup`]: hostOps({ platform: p }).removeUpload("C:/VMs/base.img.upload-1a2b"),
});

const CASES: Record<string, string[]> = {
  "posix-facts": factsArgv("/Users/ops/.pulumi-qemu"),
  "posix-vm-start": startArgv(mac, "web", '{"name":"web"}', ["qemu-system-x86_64", "-name", "guest=web", "-daemonize"], `${mac.dir}/cidata-0123456789abcdef.iso`),
  "posix-vm-observe": observeArgv([{ layout: mac, name: "web" }, { layout: vmLayout("/Users/ops/.pulumi-qemu", "db"), name: "db" }]),
  "posix-vm-signal": signalArgv(mac, "web", "TERM"),
  "posix-vm-cleanup": cleanupArgv(mac, "web", "all"),
  "posix-vm-list-specs": listSpecsArgv("/Users/ops/.pulumi-qemu/vms"),
  "posix-vm-adopt": adoptArgv(mac, "web", 4242, "Mon Nov 30 03:00:00 2026", '{"name":"web"}', "/tmp/hand.sock"),
  "posix-vm-process": processArgv("4242"),
  "posix-ports-take": portsTakeArgv("/Users/ops/.pulumi-qemu/vms/web.0a1b2c3d", ["tcp", "udp"]),
  "posix-image-fetch": hostOps({ platform: "posix" }).imageFetch({ cacheDir: "/Users/ops/.pulumi-qemu/images/cache", entry: "sha256-ab.qcow2", algorithm: "sha256", hex: "ab", compression: "xz", timeoutMs: 3600000, via: "host" }),
  "posix-capacity-reserve": reserveArgv(vmLayout("/Users/ops/.pulumi-qemu", "web.0a1b2c3d"), 2 ** 30, 2, "project lab, stack ci, resource web (VM web)"),
  "posix-probe-runner": probeRunnerArgv("/Users/ops/.pulumi-qemu/.pulumi-qemu-probe", ["qemu-system-x86_64", "-accel", "hvf", "-serial", "stdio"]),
  "posix-write-file": platformIo("posix").atomicWrite("/Users/ops/.pulumi-qemu/.pulumi-qemu-probe/x.json", 42, 0o600, "abc123"),
  ...files("posix", "posix"),
  "guest-reidentify": ["sh", "-c", ...reidentifyArgv("web-3", 1800000000, [{ savedMac: "52:54:00:12:34:57", mac: "52:54:0a:4d:00:0d", cidr: "10.77.0.13/24" }]).slice(2)],
  "windows-prelude": psScriptArgv(""),
  "windows-script-loader": windowsInvocation(psScriptArgv("")).commandLine.split(" "),
  "windows-facts": windowsFactsArgv("C:/Users/ops/My VMs"),
  "windows-vm-start": startScriptArgv(win, "web", '{"name":"web","note":"it\'s"}', qemu, `${win.dir}/cidata-0123456789abcdef.iso`),
  "windows-vm-observe": observeScriptArgv([{ layout: win, name: "web" }, { layout: vmLayout("C:/Users/ops/My VMs", "db"), name: "db" }]),
  "windows-vm-signal": signalScriptArgv(win, "web"),
  "windows-vm-cleanup": cleanupScriptArgv(win, "web", "all"),
  "windows-vm-list-specs": listSpecsScriptArgv("C:/Users/ops/My VMs/vms"),
  "windows-write-file": platformIo("windows").atomicWrite("C:/Users/ops/My VMs/.pulumi-qemu-probe/x.json", 42, 0o600, "abc123"),
  "windows-read-file": platformIo("windows").readFile("C:/Users/ops/My VMs/vms/web/qmp.port"),
  "windows-image-fetch": hostOps({ platform: "windows" }).imageFetch({ cacheDir: "C:/Users/ops/My VMs/images/cache", entry: "sha256-ab.qcow2", algorithm: "sha256", hex: "ab", compression: "xz", timeoutMs: 3600000, caFile: "C:/Users/ops/My VMs/images/cache/.ca-01.pem", via: "host" }),
  "windows-image-promote": hostOps({ platform: "windows" }).imagePromote("C:/Users/ops/My VMs/images/cache", "sha256-it's.qcow2"),
  "windows-image-discard": hostOps({ platform: "windows" }).imageDiscard("C:/Users/ops/My VMs/images/cache", "sha256-ab.qcow2"),
  ...files("windows", "windows"),
};

/** Brackets and quotes of a PowerShell script balance (comments, strings and escapes skipped). */
export function unbalanced(script: string): string | undefined {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "}": "{", "]": "[" };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i];
    if (ch === "#" && (i === 0 || /\s/.test(script[i - 1]))) { while (i < script.length && script[i] !== "\n") i++; continue; }
    if (ch === "`") { i++; continue; }
    if (ch === "'") {
      for (i++; i < script.length; i++) if (script[i] === "'") { if (script[i + 1] === "'") i++; else break; }
      if (i >= script.length) return "an unterminated '...' string";
      continue;
    }
    if (ch === '"') {
      for (i++; i < script.length && script[i] !== '"'; i++) if (script[i] === "`") i++;
      if (i >= script.length) return 'an unterminated "..." string';
      continue;
    }
    if ("({[".includes(ch)) stack.push(ch);
    if (")}]".includes(ch) && stack.pop() !== pairs[ch]) return `an unmatched ${ch} at offset ${i}`;
  }
  return stack.length ? `unclosed ${stack.join("")}` : undefined;
}

describe("host scripts (golden files)", () => {
  for (const [name, argv] of Object.entries(CASES)) {
    it(name, () => {
      const body = text(argv);
      const file = path.join(DIR, `${name}.${name.startsWith("windows") ? "ps1" : "sh"}`);
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, body);
      assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1`);
      assert.strictEqual(body, readFileSync(file, "utf8"));
      if (file.endsWith(".ps1")) assert.strictEqual(unbalanced(body), undefined);
    });
  }

  for (const file of SCRIPT_FILES.filter((f) => f.endsWith(".ps1"))) {
    it(`${file}: brackets and quotes balance`, () => assert.strictEqual(unbalanced(hostScriptText(file)), undefined));
  }

  it("every script file is sent by some builder above", () => {
    const shown = Object.values(CASES).map(text).join("\n");
    assert.deepStrictEqual(SCRIPT_FILES.filter((f) => !shown.includes(`# <file: ${f}>`)), []);
  });

  it("every golden file belongs to a case", () => {
    const names = new Set(Object.keys(CASES));
    assert.deepStrictEqual(readdirSync(DIR).filter((f) => !names.has(f.replace(/\.(sh|ps1)$/, ""))), []);
  });

  it("the bracket check catches a slip", () => {
    assert.match(unbalanced("if ($a) { 'x' ")!, /unclosed \{/);
    assert.match(unbalanced("'it's'")!, /unterminated/);
    assert.strictEqual(unbalanced("'it''s' # (comment\n\"a`\"b\" (1)"), undefined);
  });
});
