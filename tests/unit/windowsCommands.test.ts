/** How commands reach a Windows host: the encoded PowerShell command line and MSVCRT argument quoting. */
import * as assert from "assert";
import { decodePsScript, psScriptArgv, scriptLoader, windowsInvocation, winJoin, WINDOWS_PRELUDE } from "../../provider/transport/windows";
import { vmLayout } from "../../provider/layout";
import { observeScriptArgv } from "../../provider/platform/windowsVmScripts";

/**
 * The Microsoft C runtime's splitting of a command line, written from Microsoft's rules
 * ("Parsing C++ command-line arguments") and first checked against the examples of that page.
 */
function parseMsvcrt(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === " " || line[i] === "\t") i++;
    if (i >= line.length) break;
    let arg = "";
    let quoted = false;
    for (; i < line.length; i++) {
      const ch = line[i];
      if (!quoted && (ch === " " || ch === "\t")) break;
      if (ch === "\\") {
        let n = 0;
        while (line[i] === "\\") { n++; i++; }
        if (line[i] === '"') {
          arg += "\\".repeat(Math.floor(n / 2));
          if (n % 2 === 1) arg += '"';
          else quoted = !quoted;
        } else {
          arg += "\\".repeat(n);
          i--;
        }
        continue;
      }
      if (ch === '"') {
        if (quoted && line[i + 1] === '"') { arg += '"'; i++; } else quoted = !quoted;
        continue;
      }
      arg += ch;
    }
    args.push(arg);
  }
  return args;
}

describe("Windows command lines", () => {
  it("the reference splitter agrees with Microsoft's documented examples", () => {
    const table: Array<[string, string[]]> = [
      ['"abc" d e', ["abc", "d", "e"]],
      ['a\\\\b d"e f"g h', ["a\\\\b", "de fg", "h"]],
      ['a\\\\\\"b c d', ['a\\"b', "c", "d"]],
      ['a\\\\\\\\"b c" d e', ["a\\\\b c", "d", "e"]],
      ['a"b"" c d', ['ab" c d']],
    ];
    for (const [line, want] of table) assert.deepStrictEqual(parseMsvcrt(line), want, line);
  });

  it("winJoin survives the splitter for paths with spaces, quotes and trailing backslashes", () => {
    const argv = ["C:\\Program Files\\qemu\\qemu-system-x86_64.exe", "-name", "guest=web", "-pidfile", "C:\\VMs\\my vms/vms/web/qemu.pid",
      "-drive", "file=C:\\a b\\disk.qcow2,if=virtio", 'say "hi"', "C:\\dir with space\\", "", "\\\\server\\share\\x", 'tail\\"q'];
    assert.deepStrictEqual(parseMsvcrt(winJoin(argv)), argv);
    assert.strictEqual(winJoin(["-name", "guest=web"]), "-name guest=web", "plain words stay unquoted");
  });

  it("a script argv holds the prelude and the script as base64 of UTF-16LE", () => {
    const argv = psScriptArgv("Write-Output 'it''s'\n");
    assert.deepStrictEqual(argv.slice(0, 4), ["powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand"]);
    assert.match(argv[4], /^[A-Za-z0-9+/=]+$/);
    assert.strictEqual(decodePsScript(argv), WINDOWS_PRELUDE + "Write-Output 'it''s'\n");
  });

  it("the script travels on stdin behind a loader whose command line fits cmd.exe's 8191 characters, however long the script", () => {
    const many = Array.from({ length: 64 }, (_, i) => ({ layout: vmLayout("C:/Users/ops/My VMs", `vm${i}`), name: `vm${i}` }));
    const argv = observeScriptArgv(many);
    assert.ok(argv[4].length > 32767, "encoded whole, it would not even fit CreateProcess");
    const { commandLine, stdinPrefix } = windowsInvocation(argv);
    assert.ok(commandLine.length < 1200, `${commandLine.length} characters`);
    const words = commandLine.split(" ");
    assert.match(words[4], /^[A-Za-z0-9+/=]+$/, "base64 needs no quoting in cmd or PowerShell");
    assert.strictEqual(decodePsScript(words), scriptLoader(stdinPrefix.length));
    assert.strictEqual(stdinPrefix.toString("utf8"), decodePsScript(argv));
    assert.match(scriptLoader(42), /^\$n = 42\n/);
  });

  it("any other argv becomes a PowerShell call with verbatim quotes and the program's own exit code", () => {
    const { stdinPrefix } = windowsInvocation(["qemu-img", "info", "-U", "--output=json", "C:/VMs/it's here/a.qcow2"]);
    const script = stdinPrefix.toString("utf8");
    assert.ok(script.startsWith(WINDOWS_PRELUDE));
    assert.strictEqual(script.slice(WINDOWS_PRELUDE.length), "& 'qemu-img' 'info' '-U' '--output=json' 'C:/VMs/it''s here/a.qcow2'\nexit $LASTEXITCODE\n");
  });

  it("refuses a NUL byte", () => {
    assert.throws(() => winJoin(["a\0b"]), /NUL/);
  });
});
