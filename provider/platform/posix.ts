/** A POSIX host's operations (Linux, macOS, BSD): sh scripts of provider/scripts. Pure: golden-tested. */
import { cloneRecordDir } from "../layout";
import { hostScriptText, shScriptArgv } from "../transport/hostScript";
import { POSIX_QEMU_DIRS } from "../transport";
import { cleanupArgv, listSpecsArgv, observeArgv, signalArgv, startArgv } from "./posixVmScripts";
import { APPEARED_EXIT, type HostOps } from "./types";

export const POSIX_OPS: HostOps = {
  name: "POSIX",
  shell: "sh",
  vm: { start: startArgv, observe: observeArgv, signal: signalArgv, cleanup: cleanupArgv, listSpecs: listSpecsArgv },
  // A hard link never replaces a file (a test then mv would, when two uploads end at once); mv where the file system has no hard links.
  moveIfAbsent: (temp, path) => ["sh", "-c", 'if ln -- "$1" "$2" 2>/dev/null || { [ ! -e "$2" ] && mv -- "$1" "$2"; }; then rm -f -- "$1"; exit 0; fi; rm -f -- "$1"; ' +
    `if [ -e "$2" ]; then echo "$2 appeared during the upload" >&2; exit ${APPEARED_EXIT}; fi; echo "cannot move the upload to $2" >&2; exit 1`, "upload", temp, path],
  removeUpload: (temp) => ["sh", "-c", 'rm -f -- "$1" "$1".tmp-*', "upload-cleanup", temp],
  overlays: (dirs, path) => shScriptArgv(["disk-overlays.sh"], [path, cloneRecordDir(path), ...dirs], { EACH: hostScriptText("disk-overlay-info.sh") }),
  imageFetch: (o) => shScriptArgv(["vm-lib.sh", "image-fetch.sh"], [o.cacheDir, o.entry, o.algorithm, o.hex, o.compression,
    String(Math.ceil(o.timeoutMs / 1000)), o.caFile ?? "", o.via === "client" ? "client" : "url"]),
  imagePromote: (cacheDir, entry) => ["sh", "-c", 'r="$1/.$2.ready"; f="$1/$2"; ln -- "$r" "$f" 2>/dev/null || [ -f "$f" ] || mv -n -- "$r" "$f"; [ -f "$f" ] || exit 1; rm -f -- "$r"', "image-promote", cacheDir, entry],
  imageDiscard: (cacheDir, entry) => ["sh", "-c", 'rm -f -- "$1/.$2.ready" "$1/.$2.ready.tmp" "$1/.$2.part"', "image-discard", cacheDir, entry],
  samePath: (a, b) => a === b,
  checkFileName: () => undefined,
  misdeclared: (message) => (/is not recognized as (an internal or external command|the name of a cmdlet)/.test(message)
    ? "it looks like a Windows host (its shell said \"'sh' is not recognized\"); set platform: \"windows\"" : undefined),
  installQemu: `no qemu-system-* program in PATH (nor ${POSIX_QEMU_DIRS.join(", ")}): ` +
    "install QEMU on the host (Debian: apt-get install qemu-system-x86 qemu-utils; macOS: brew install qemu)",
  daemonize: true,
  unixSockets: true,
  ledger: true,
  hardLinks: true,
  recordsBesideImages: true,
  adopt: true,
  probeRunner: true,
};
