/**
 * QEMU's `-object secret,id=ID,data=VALUE` in extraArgs puts the secret on QEMU's command line,
 * which `ps` shows every local user of the host. The same object reads it from a file
 * (`file=PATH`), so the argv QEMU is started with says `file=` a private file of the VM's state
 * directory and the value goes into that file. Pure: the caller writes the files.
 */

/** An `-opt` string's key=value parts, QEMU's way: a doubled comma is a comma inside a value. */
export function splitOptions(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ",") current += text[i];
    else if (text[i + 1] === ",") { current += ","; i++; }
    else { parts.push(current); current = ""; }
  }
  parts.push(current);
  return parts;
}

function joinOptions(parts: string[]): string {
  return parts.map((p) => p.replace(/,/g, ",,")).join(",");
}

export interface SecretFile {
  path: string;
  data: string;
}

/** The args with each secret object's `data=` replaced by `file=<dir>/secret-<n>`, and the files to write. */
export function secretsToFiles(args: string[], dir: string): { args: string[]; files: SecretFile[] } {
  const files: SecretFile[] = [];
  const out = args.map((arg, i) => {
    if (args[i - 1] !== "-object" && args[i - 1] !== "--object") return arg;
    const parts = splitOptions(arg);
    const data = parts.findIndex((p) => p.startsWith("data="));
    if (parts[0] !== "secret" || data < 0) return arg;
    const path = `${dir}/secret-${files.length}`;
    files.push({ path, data: parts[data].slice("data=".length) });
    return joinOptions([...parts.slice(0, data), `file=${path}`, ...parts.slice(data + 1)]);
  });
  return { args: out, files };
}
