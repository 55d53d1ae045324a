/**
 * QEMU's own words in its stderr or `-D` log, without what only a debugger reads: the traces of
 * run states and CPU resets, register dumps and the raw data of a KVM internal error (a failed KVM guest dumps ~30
 * such lines after the two that say what happened). Pure.
 */
const NOT_WORDS = [
  /\brunstate_set\b/,
  /^guest_cpu_reset\b/,
  /^[A-Z][A-Z0-9]{0,5}\s*=/, // RAX=..., R8 =..., GDT=..., EFER=..., X00=..., PSTATE=...
  /^extra data\[\d+\]:/,
  /^Code=/,
];

const WARNING = /^qemu-system-\S+: warning:/;

/** Every line of QEMU's that says something, in order; warnings too unless `warnings` is false. */
export function qemuMessages(text: string, options: { warnings?: boolean } = {}): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
    .filter((l) => !NOT_WORDS.some((re) => re.test(l)))
    .filter((l) => options.warnings !== false || !WARNING.test(l));
}

/** QEMU's first two lines that are not warnings: the cause, in its words. */
export function qemuWords(text: string): string {
  return qemuMessages(text, { warnings: false }).slice(0, 2).join(" ");
}
