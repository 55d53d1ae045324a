/**
 * A Windows host's operations: PowerShell scripts of provider/scripts (the twins of the sh ones,
 * same answers), and what QEMU for Windows cannot do. Pure: golden-tested; no PowerShell runs here.
 */
import { psQuote } from "../transport/quote";
import { psFileArgv, psScriptArgv } from "../transport/windows";
import { windowsFileName } from "../validate";
import { cleanupScriptArgv, listSpecsScriptArgv, observeScriptArgv, signalScriptArgv, startScriptArgv } from "./windowsVmScripts";
import type { HostOps } from "./types";

const windowsPath = (p: string) => p.replace(/\//g, "\\").toLowerCase();

export const WINDOWS_OPS: HostOps = {
  name: "Windows",
  shell: "powershell",
  vm: {
    start: startScriptArgv, observe: observeScriptArgv, cleanup: cleanupScriptArgv, listSpecs: listSpecsScriptArgv,
    // Windows has no signals: both rungs end the process (Stop-Process), the last resort either way.
    signal: (layout, name) => signalScriptArgv(layout, name),
  },
  moveIfAbsent: (temp, path) => psFileArgv(["disk-move-if-absent.ps1"], { temp, path }),
  removeUpload: (temp) => psFileArgv(["disk-remove-upload.ps1"], { temp }),
  overlays: (dirs, path) => psFileArgv(["disk-overlays.ps1"], { path, dirs }),
  imageFetch: (o) => psFileArgv(["image-fetch.ps1"], {
    cache: o.cacheDir, name: o.entry, algo: o.algorithm, want: o.hex, compression: o.compression,
    limit: Math.ceil(o.timeoutMs / 1000), cafile: o.caFile ?? "", via: o.via === "client" ? "client" : "url",
  }),
  imagePromote: (cacheDir, entry) => {
    const [ready, final] = [psQuote(`${cacheDir}/.${entry}.ready`), psQuote(`${cacheDir}/${entry}`)];
    return psScriptArgv(`if (Test-Path -LiteralPath ${final}) { Remove-Item -LiteralPath ${ready} -Force } else { Move-Item -LiteralPath ${ready} -Destination ${final} }\n`);
  },
  imageDiscard: (cacheDir, entry) => {
    const files = [".ready", ".ready.tmp", ".part"].map((s) => psQuote(`${cacheDir}/.${entry}${s}`)).join(", ");
    return psScriptArgv(`foreach ($f in @(${files})) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }\n`);
  },
  samePath: (a, b) => windowsPath(a) === windowsPath(b),
  checkFileName: (name, property) => void windowsFileName(name, property),
  misdeclared: () => undefined,
  installQemu: "no qemu-system-*.exe on PATH nor in %ProgramFiles%\\qemu: install QEMU for Windows (qemu.weilnetz.de or MSYS2) on the host",
  kernelName: "Windows",
  daemonize: false,
  unixSockets: false,
  networkTypes: ["user"],
  networkTypesReason: "QEMU there has no bridge helper and tap needs the TAP-Windows driver",
  ledger: false,
  hardLinks: false,
  recordsBesideImages: false,
  adopt: false,
  probeRunner: false,
};
