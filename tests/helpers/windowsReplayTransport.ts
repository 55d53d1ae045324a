/**
 * A Windows host that cannot run here: every command the provider sends is decoded from its
 * -EncodedCommand, recognized, and answered from recordings (tests/unit/fixtures/windows/README.md)
 * and an in-memory model of the host's files and QEMU processes. It checks the provider's side
 * (which scripts it sends, with which values, and how it reads the answers); the PowerShell
 * itself is checked only by its golden files. An unrecognized command fails the test.
 */
import { createHash } from "crypto";
import { gunzipSync } from "zlib";
import { readFileSync } from "fs";
import * as path from "path";
import { Duplex } from "stream";
import { decodePsScript, scriptLoader, windowsInvocation, WINDOWS_PRELUDE } from "../../provider/transport/windows";
import type { ExecResult, SizedStream, Transport } from "../../provider/transport";
import { PROBE_SERIAL_MARKER, PROBE_SUCCESS_EXIT } from "../../provider/host/accelerators/longModeProbe";

const FIXTURES = path.join(__dirname, "../../../tests/unit/fixtures");
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");

/** A PowerShell verbatim string's value. */
const unquote = (q: string) => q.slice(1, -1).replace(/''/g, "'");
const QUOTED = "'(?:[^']|'')*'";
const norm = (p: string) => p.replace(/\\/g, "/");

interface Proc { commandLine: string; created: number; qmpAddress: string; qmpPort: number; vmDir: string }
interface Image { format: string; size: number; backing?: string }
interface VmFields { name: string; dir: string; pidfile: string; pidfileArg: string; qmpport: string; spec: string; qemulog: string; identity: string; lock: string }

export class WindowsReplayTransport implements Transport {
  readonly description = "ops@win11.lab:22 (replayed)";
  readonly platform = "windows" as const;
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>();
  readonly procs = new Map<number, Proc>();
  readonly images = new Map<string, Image>();
  /** The first line of each script after the prelude, or the program of a call: what was run, in order. */
  readonly ran: string[] = [];
  /** Directories private-dir.ps1 made (and so set private to the user). */
  readonly privateDirs = new Set<string>();
  /** QMP commands received, in order. */
  readonly qmpCommands: string[] = [];
  private nextPid = 5000;
  private nextPort = 50100;

  constructor(private readonly factsFixture: string) {}

  /** Each script run (prelude taken off), in order. */
  readonly scripts: string[] = [];
  /** What each command received on stdin after the script (the caller's own input), in order. */
  readonly stdins: string[] = [];
  /** Files published on the web the modelled curl.exe reaches, by URL (set by a test). */
  readonly web = new Map<string, Buffer>();
  /** URLs the modelled curl.exe fetched, in order. */
  readonly downloads: string[] = [];

  async exec(argv: string[], options: { stdin?: string | Buffer } = {}): Promise<ExecResult> {
    // Exactly what SshTransport sends a Windows host for this argv: the loader on the command
    // line (within cmd.exe's 8191 characters), the script first on stdin.
    const { commandLine, stdinPrefix } = windowsInvocation(argv);
    if (commandLine.length > 8191) throw new Error(`a command line of ${commandLine.length} characters: cmd.exe refuses it`);
    if (decodePsScript(commandLine.split(" ")) !== scriptLoader(stdinPrefix.length)) throw new Error("the command line is not the script loader");
    const script = stdinPrefix.toString("utf8");
    if (!script.startsWith(WINDOWS_PRELUDE)) throw new Error("a script without the Windows prelude");
    const body = script.slice(WINDOWS_PRELUDE.length);
    this.ran.push(body.split("\n")[0]);
    this.stdins.push(options.stdin === undefined ? "" : options.stdin.toString());
    this.scripts.push(body);
    return this.answer(body);
  }

  async execBuffer(argv: string[], options: { stdin?: string | Buffer } = {}) {
    this.rawStdout = undefined;
    const r = await this.exec(argv, options);
    return { ...r, stdoutBytes: this.rawStdout ?? Buffer.from(r.stdout) };
  }

  /** A binary answer's bytes (head.ps1 writes raw bytes), for execBuffer. */
  private rawStdout?: Buffer;

  private answer(body: string): ExecResult {
    const ok = (stdout = ""): ExecResult => ({ stdout, stderr: "", exitCode: 0, signal: null });
    const fail = (stderr: string, exitCode = 1): ExecResult => ({ stdout: "", stderr, exitCode, signal: null });
    const literal = (name: string) => {
      const m = new RegExp(`\\$${name} = (${QUOTED})`).exec(body);
      if (!m) throw new Error(`no $${name} in the script`);
      return unquote(m[1]);
    };
    const firstQuoted = () => unquote(new RegExp(QUOTED).exec(body)![0]);
    if (body.includes("Get-CimInstance Win32_OperatingSystem")) return ok(fixture(`hosts/${this.factsFixture}`));
    if (body.startsWith("& ")) {
      if (!body.endsWith("\nexit $LASTEXITCODE\n")) throw new Error("a program call that does not pass on its exit code");
      return this.call([...body.matchAll(new RegExp(QUOTED, "g"))].map((m) => unquote(m[0])));
    }
    if (body.startsWith("if (Test-Path") && body.includes("{ exit 0 } else { exit 1 }")) return this.exists(firstQuoted()) ? ok() : fail("");
    if (body.startsWith("if (Test-Path") && body.includes("Move-Item")) return this.promoteImage(unquote([...body.matchAll(new RegExp(QUOTED, "g"))][2][0]), firstQuoted());
    if (body.startsWith("if (Test-Path") && body.includes(".Length } else { 0 }")) return ok(`${this.files.get(norm(firstQuoted()))?.length ?? 0}\r\n`);
    if (body.startsWith("foreach ($f in @(")) {
      for (const m of body.matchAll(new RegExp(QUOTED, "g"))) this.files.delete(norm(unquote(m[0])));
      return ok();
    }
    if (body.startsWith("if (Test-Path") && body.includes("Remove-Item")) { this.files.delete(norm(firstQuoted())); this.images.delete(norm(firstQuoted())); return ok(); }
    if (body.includes("Get-FileHash") && !body.startsWith("# pulumi-qemu ")) {
      const data = this.files.get(norm(firstQuoted()));
      return data ? ok(createHash("sha256").update(data).digest("hex") + "\r\n") : fail("Get-FileHash : Cannot find path");
    }
    // A script of provider/scripts: its first line names it.
    const tag = /^# pulumi-qemu ([a-z0-9-]+)\n/.exec(body)?.[1];
    if (tag === "tail") {
      const data = this.files.get(norm(literal("path")));
      return data ? ok(data.subarray(-Number(/^\$bytes = (\d+)$/m.exec(body)![1])).toString()) : fail("Exception calling \"Open\": Could not find file");
    }
    if (tag === "head") {
      const data = this.files.get(norm(literal("path")));
      if (!data) return fail("Exception calling \"Open\": Could not find file");
      this.rawStdout = data.subarray(0, Number(/^\$bytes = (\d+)$/m.exec(body)![1]));
      return ok(this.rawStdout.toString("latin1"));
    }
    if (tag === "image-fetch") return this.fetchImage(literal, Number(/^\$limit = (\d+)$/m.exec(body)![1]));
    if (tag === "disk-move-if-absent") {
      const [temp, dest] = [norm(literal("temp")), norm(literal("path"))];
      if (this.exists(dest)) { this.files.delete(temp); return fail(`${dest} appeared during the upload`, 3); }
      this.files.set(dest, this.files.get(temp)!);
      this.files.delete(temp);
      return ok();
    }
    if (tag === "private-dir") {
      // Modelled: a directory made here gets the script's private ACL; one already there keeps its own.
      const dir = norm(literal("dir"));
      if (!this.dirs.has(dir)) { this.dirs.add(dir); this.privateDirs.add(dir); }
      return ok();
    }
    if (tag === "disk-overlays") return ok(this.overlayRecords(norm(literal("path")), body));
    if (tag?.startsWith("vm-")) return this.vmScript(tag.slice(3), body, literal);
    throw new Error(`no recording answers this script:\n${body.slice(0, 300)}`);
  }

  /**
   * What disk-overlays.ps1 prints (a record per qcow2 image under the working directory; the
   * directory's D line): modelled from the images; `overlaySearchFault` makes one image unreadable
   * or the directory search fail, as an image locked or a directory denied would.
   */
  private overlayRecords(base: string, body: string): string {
    const dirs = [...body.matchAll(new RegExp(`\\$dirs = @\\((${QUOTED}(?:, ?${QUOTED})*)\\)`, "g"))][0]?.[1];
    if (!dirs) throw new Error("no $dirs in disk-overlays.ps1");
    const workDir = norm(unquote(new RegExp(QUOTED).exec(dirs)![0]));
    const lines: string[] = [];
    for (const [p, image] of this.images) {
      if (p === base || !p.startsWith(`${workDir}/`) || image.format !== "qcow2") continue;
      lines.push(`F${p.replace(/\//g, "\\")}`);
      if (this.overlaySearchFault === "image") { lines.push("E1"); continue; }
      lines.push(`J${JSON.stringify({ filename: p, format: "qcow2", ...(image.backing ? { "full-backing-filename": image.backing } : {}) })}`);
    }
    lines.push(this.overlaySearchFault === "directory" ? "D1" : "D0");
    return lines.map((l) => `${l}\r\n`).join("");
  }

  /**
   * image-fetch.ps1, modelled: the URL read from stdin (the last command's), fetched from `web`
   * (absent: curl.exe's 404, exit 22), the digest compared, gz inflated, the file left `.ready`.
   * The lock and the resume are the script's; here one fetch runs at a time.
   */
  private fetchImage(literal: (name: string) => string, limit: number): ExecResult {
    const out = (stdout: string, exitCode = 0, stderr = ""): ExecResult => ({ stdout, stderr, exitCode, signal: null });
    if (!(limit > 0)) throw new Error("image-fetch without a time limit");
    const [cache, name, want] = [norm(literal("cache")), literal("name"), literal("want")];
    const algo = literal("algo") as "sha256" | "sha512";
    const [final, part, ready] = [`${cache}/${name}`, `${cache}/.${name}.part`, `${cache}/.${name}.ready`];
    if (this.files.has(final)) return out("state=cached\r\n");
    const url = this.stdins[this.stdins.length - 1].split("\n")[0];
    let stdout = "";
    if (literal("via") === "url") {
      this.downloads.push(url);
      const data = this.web.get(url);
      if (!data) return out("", 79, "curl: (22) The requested URL returned error: 404\r\nthe download failed (curl.exe exit 22)\r\n");
      this.files.set(part, data);
      stdout += "fetched=1\r\n";
    }
    const data = this.files.get(part);
    if (!data) return out("", 79, `nothing was fetched to ${part}`);
    const got = createHash(algo).update(data).digest("hex");
    this.files.delete(part);
    if (got !== want) return out(`${stdout}got=${got}\r\n`, 77);
    const compression = literal("compression");
    if (compression !== "none" && compression !== "gz") return out(stdout, 80, `${compression === "xz" ? "xz" : compression === "zst" ? "zstd" : "bzip2"}.exe is not on the host's PATH (the image is ${compression}-compressed)`);
    this.files.set(ready, compression === "gz" ? gunzipSync(data) : data);
    return out(`${stdout}state=ready\r\n`);
  }

  /** The promote line: the checked `.ready` file becomes the entry (qemu-img then opens it), unless one is there. */
  private promoteImage(ready: string, final: string): ExecResult {
    const data = this.files.get(norm(ready));
    this.files.delete(norm(ready));
    if (!this.files.has(norm(final)) && data) {
      this.files.set(norm(final), data);
      const qcow = data.subarray(0, 4).toString("latin1") === "QFI\xfb";
      this.images.set(norm(final), { format: qcow ? "qcow2" : "raw", size: qcow ? Number(data.readBigUInt64BE(24)) : data.length });
    }
    return { stdout: "", stderr: "", exitCode: 0, signal: null };
  }

  /** Set by a test: the next clone searches meet an unreadable image or a directory they cannot read. */
  overlaySearchFault?: "image" | "directory";

  private exists(p: string): boolean {
    return this.files.has(norm(p)) || this.dirs.has(norm(p));
  }

  /** A running process whose command line uses the image (QEMU holds the image's lock). */
  private holder(image: string): Proc | undefined {
    return [...this.procs.values()].find((p) => norm(p.commandLine).includes(`file=${norm(image).replace(/,/g, ",,")},`));
  }

  /** qemu-img (modelled) and QEMU's functional probe (this machine's TCG answer). */
  private call(words: string[]): ExecResult {
    const [program, ...args] = words;
    const ok = (stdout = ""): ExecResult => ({ stdout, stderr: "", exitCode: 0, signal: null });
    const fail = (stderr: string): ExecResult => ({ stdout: "", stderr, exitCode: 1, signal: null });
    if (/qemu-system-x86_64\.exe$/.test(program) && args.includes("isa-debug-exit,iobase=0xf4,iosize=0x04")) return { stdout: `${PROBE_SERIAL_MARKER}\n`, stderr: "", exitCode: PROBE_SUCCESS_EXIT, signal: null };
    if (program !== "qemu-img") throw new Error(`no recording for the program ${program}`);
    const [op, ...rest] = args;
    const target = norm(rest.filter((a) => !a.startsWith("-") && !/^\d+$/.test(a) && a !== "qcow2" && a !== "raw").pop() ?? "");
    if (op === "info") {
      const image = this.images.get(target);
      if (!image) return fail(`qemu-img.exe: Could not open '${target}': Could not open '${target}': No such file or directory`);
      if (!rest.includes("-U") && this.holder(target)) return fail(`qemu-img.exe: Could not open '${target}': Failed to get shared "write" lock\nIs another process using the image [${target}]?`);
      const info = JSON.parse(fixture("windows/qemu-img-info.json"));
      Object.assign(info, { filename: target, format: image.format, "virtual-size": image.size, "actual-size": 200704 });
      if (image.backing) Object.assign(info, { "backing-filename": image.backing, "full-backing-filename": image.backing, "backing-filename-format": this.images.get(norm(image.backing))?.format });
      return ok(JSON.stringify(info, null, 4));
    }
    if (op === "create") {
      if (this.exists(target)) return fail(`qemu-img.exe: ${target}: file exists`);
      const backing = rest.includes("-b") ? rest[rest.indexOf("-b") + 1] : undefined;
      const size = /^\d+$/.test(rest[rest.length - 1]) ? Number(rest[rest.length - 1]) : this.images.get(norm(backing ?? ""))?.size ?? 0;
      this.images.set(target, { format: rest[rest.indexOf("-f") + 1], size, backing });
      this.files.set(target, Buffer.from("QFI\xfb"));
      return ok();
    }
    if (op === "resize") {
      if (this.holder(target)) return fail(`qemu-img.exe: Could not open '${target}': Failed to get "write" lock`);
      this.images.get(target)!.size = Number(rest[rest.length - 1]);
      return ok();
    }
    throw new Error(`no recording for qemu-img ${op}`);
  }

  private vms(body: string): VmFields[] {
    return [...body.matchAll(new RegExp(`@\\{ name = ${QUOTED}(?:; \\w+ = ${QUOTED})*\\s*\\}`, "g"))].map((m) =>
      Object.fromEntries([...m[0].matchAll(new RegExp(`(\\w+) = (${QUOTED})`, "g"))].map((f) => [f[1], unquote(f[2])])) as unknown as VmFields);
  }

  private text(p: string): string | undefined {
    return this.files.get(norm(p))?.toString();
  }

  /** The model of Test-Ours: the recorded PID and creation time, or guest=NAME and -pidfile in the command line. */
  private ours(vm: VmFields): number | undefined {
    const id = Number(this.text(vm.pidfile)?.trim());
    const proc = this.procs.get(id);
    if (!proc) return undefined;
    if (this.text(vm.identity) === `${id} ${proc.created}`) return id;
    const line = ` ${proc.commandLine} `;
    return line.includes(` guest=${vm.name} `) && line.includes(` -pidfile ${vm.pidfileArg} `) ? id : undefined;
  }

  private observation(vm: VmFields): string {
    const lines = [`pid=${this.text(vm.pidfile)?.trim() ?? ""}`, `ours=${this.ours(vm) ? 1 : 0}`, `socket=${this.exists(vm.qmpport) ? 1 : 0}`];
    const log = this.text(vm.qemulog);
    if (log !== undefined) lines.push(`runstate=${log.split(/\r?\n/).filter((l) => l.includes("runstate_set")).pop() ?? ""}`);
    const spec = this.text(vm.spec);
    if (spec !== undefined) lines.push(`spec=${spec.split("\n")[0]}`);
    const owner = this.text(`${norm(vm.spec).replace(/\/[^/]*$/, "")}/owner`);
    if (owner !== undefined) lines.push(`owner=${owner.split("\n")[0]}`);
    return lines.map((l) => l + "\r\n").join("");
  }

  private vmScript(tag: string, body: string, literal: (name: string) => string): ExecResult {
    const ok = (stdout: string): ExecResult => ({ stdout, stderr: "", exitCode: 0, signal: null });
    const vms = this.vms(body);
    const vm = vms[0];
    const put = (p: string, s: string) => this.files.set(norm(p), Buffer.from(s));
    const drop = (p: string) => this.files.delete(norm(p));
    switch (tag) {
      case "observe": return ok(vms.map((v, i) => `vm=${i}\r\n${this.observation(v)}`).join(""));
      case "start": {
        if (this.ours(vm)) return ok(`existing=1\r\n${this.observation(vm)}`);
        const args = literal("arguments");
        if (!args.includes("-qmp tcp:@QMP_ADDRESS@:@QMP_PORT@,server=on,wait=off") || / -daemonize\b/.test(args)) throw new Error(`not a Windows QEMU argv: ${args}`);
        [vm.qmpport, vm.pidfile, vm.qemulog, vm.identity].forEach(drop);
        const pid = this.nextPid++;
        const port = this.nextPort++;
        // The address the script's own `$address =` line makes (read from the script sent, values drawn here).
        const address = qmpAddressLine(body).pick((lo, hi) => lo + Math.floor(Math.random() * (hi - lo)));
        const proc = { commandLine: `"C:\\Program Files\\qemu\\${literal("program")}.exe" ${args.replace("@QMP_ADDRESS@", address).replace("@QMP_PORT@", String(port))}`,
          created: 638680000000000000 + pid, qmpAddress: address, qmpPort: port, vmDir: norm(vm.dir) };
        this.procs.set(pid, proc);
        this.dirs.add(norm(vm.dir));
        put(vm.pidfile, `${pid}\r\n`);
        put(vm.qmpport, `${address}:${port}`);
        put(vm.spec, literal("desired") + "\n");
        put(vm.qemulog, fixture("windows/qemu-log-running.txt"));
        put(vm.identity, `${pid} ${proc.created}`);
        return ok(`existing=0\r\n${this.observation(vm)}`);
      }
      case "signal": {
        const pid = this.ours(vm);
        if (pid) this.procs.delete(pid);
        return ok(`signalled=${pid ? 1 : 0}\r\n`);
      }
      case "cleanup": {
        if (this.ours(vm)) return { stdout: "", stderr: "the VM is still running", exitCode: 72, signal: null };
        [vm.qmpport, vm.pidfile, vm.identity].forEach(drop);
        if (literal("what") === "all") {
          for (const f of [...this.files.keys()]) if (f.startsWith(`${norm(vm.dir)}/`)) this.files.delete(f);
          this.dirs.delete(norm(vm.dir));
        }
        return ok("");
      }
      case "list-specs": {
        const root = norm(literal("root"));
        return ok([...this.files].filter(([f]) => f.startsWith(`${root}/`) && f.endsWith("/spec.json"))
          .map(([f, data]) => `${f.slice(0, -"/spec.json".length)}\t${data.toString().trim()}\r\n`).join(""));
      }
    }
    throw new Error(`no recording for the VM script ${tag}`);
  }

  async writeFile(p: string, data: string | Buffer | SizedStream): Promise<void> {
    if (typeof data === "string" || Buffer.isBuffer(data)) return void this.files.set(norm(p), Buffer.from(data));
    const chunks: Buffer[] = [];
    for await (const chunk of data.stream) chunks.push(chunk as Buffer);
    this.files.set(norm(p), Buffer.concat(chunks));
  }

  async readFile(p: string): Promise<Buffer> {
    const data = this.files.get(norm(p));
    if (!data) throw new Error(`${this.description}: ${p}: Could not find file`);
    return data;
  }

  async connectUnix(): Promise<Duplex> {
    throw new Error("Windows hosts have no Unix sockets here: QMP must go over TCP");
  }

  /** QMP on a running VM's port: the recorded session of QEMU 7.2, replayed command by command. */
  async connectTcp(host: string, port: number): Promise<Duplex> {
    const entry = [...this.procs].find(([, p]) => p.qmpPort === port && p.qmpAddress === host);
    if (!entry) throw new Error(`${this.description}: connect ${host}:${port}: connection refused`);
    const [pid] = entry;
    const recorded = fixture("windows/qmp-qemu-7.2.jsonl").trim().split("\n").map((l) => JSON.parse(l));
    const replies = new Map(recorded.slice(1).map((r) => [r.execute as string, r]));
    const peer: Duplex = new Duplex({
      read() {},
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString().split("\n").filter(Boolean)) {
          const { execute, id } = JSON.parse(line) as { execute: string; id: string };
          this.qmpCommands.push(execute);
          const r = replies.get(execute) ?? { reply: { return: {} } };
          if (r.event) peer.push(JSON.stringify(r.event) + "\n");
          peer.push(JSON.stringify({ ...r.reply, id }) + "\n");
          // The guest honours ACPI power-off; quit ends QEMU, which closes its QMP connection.
          if (execute === "system_powerdown" || execute === "quit") {
            this.procs.delete(pid);
            setImmediate(() => peer.destroy());
          }
        }
        done();
      },
    });
    setImmediate(() => peer.push(JSON.stringify(recorded[0]) + "\n"));
    return peer;
  }

  async close(): Promise<void> {}
}

/**
 * vm-start.ps1's `$address = '<format>' -f (Get-Random -Minimum A -Maximum B), ...` line, read from
 * a script's text (no PowerShell runs here): its format and each placeholder's range (Get-Random's
 * Maximum is exclusive). `pick` fills the format with a value per range.
 */
export function qmpAddressLine(script: string): { format: string; ranges: Array<[number, number]>; pick(draw: (lo: number, hi: number) => number): string } {
  const m = /^\$address = '([^']*)' -f (.*)$/m.exec(script);
  if (!m) throw new Error("vm-start.ps1 has no `$address = '...' -f ...` line: the replay cannot tell which address it picks");
  const ranges = [...m[2].matchAll(/\(Get-Random -Minimum (\d+) -Maximum (\d+)\)/g)].map((r): [number, number] => [Number(r[1]), Number(r[2])]);
  const holes = [...m[1].matchAll(/\{(\d+)\}/g)].map((h) => Number(h[1]));
  if (holes.length !== ranges.length || holes.some((h, i) => h !== i)) throw new Error(`cannot read vm-start.ps1's address line: ${m[0]}`);
  const format = m[1];
  return { format, ranges, pick: (draw) => format.replace(/\{(\d+)\}/g, (_, i) => String(draw(...ranges[Number(i)]))) };
}
