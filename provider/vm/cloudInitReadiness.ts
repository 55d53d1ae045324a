/**
 * `readiness.cloudInit`: a guest is ready when cloud-init's last stage says it finished, and
 * not ready, at once, when cloud-init reports a problem on the serial console (bad user-data, a
 * module that failed), quoted in cloud-init's own words. Pure: read from the serial log's text.
 */

/** cloud-init's final stage, on the console: "Cloud-init v. 22.4.2 finished at ...". */
export const CLOUD_INIT_FINISHED = /Cloud-init v\. \S+ finished at[^\n]*/;

/** A console line of cloud-init: "[   36.9] cloud-init[311]: TEXT" (the kernel's time stamp optional). */
const LINE = /^(?:\[\s*[\d.]+\]\s*)?cloud-init\[(\d+)\]: ?(.*)$/;
/** What cloud-init logs at WARNING or above: "2026-12-02 23:26:18,675 - util.py[WARNING]: ...". */
const REPORT = /^(?:(\d{4}-\d\d-\d\d [\d:]+),\d+ - )?[\w.]+\.py\[(WARNING|ERROR|CRITICAL)\]: (.*)$/;
const CONTINUATION_LINES = 12;

/**
 * cloud-init's first report of a problem, with the lines that continue it; undefined when there is
 * none. `complete` is false while the report may go on: the log ends inside it (its lines reach
 * the console one by one, and a read can come between them), so the caller reads again.
 */
export function cloudInitFailure(serial: string): { text: string; complete: boolean } | undefined {
  const lines = serial.replace(/\r/g, "").split("\n");
  // The last piece has no line end yet: it is a line still being written.
  const whole = lines.length - 1;
  for (let i = 0; i < whole; i++) {
    const m = LINE.exec(lines[i]);
    const report = m && REPORT.exec(m[2]);
    if (!m || !report) continue;
    // The guest's own clock (UTC) says when: a reader can tell how long the wait went on after it.
    const quoted = [`${report[1] ? `${report[1]} UTC ` : ""}${report[2]}: ${report[3]}`];
    // The rest of a multi-line message: the same process's lines up to its next log record.
    // Another writer's line on the console (the kernel's, systemd's) can come between them: skipped.
    let complete = false;
    for (let j = i + 1; j < whole && !complete; j++) {
      const next = LINE.exec(lines[j]);
      if (!next) complete = j - i > 3 * CONTINUATION_LINES;
      else if (next[1] !== m[1] || /^(?:\d{4}-\d\d-\d\d [\d:,]+ - )|^Cloud-init v\.|^ci-info:/.test(next[2])) complete = true;
      else quoted.push(next[2]);
      if (quoted.length > CONTINUATION_LINES) complete = true;
    }
    return { text: quoted.join("\n"), complete };
  }
  return undefined;
}

/** Where cloud-init writes its result when its last stage has run (read through the guest agent). */
export const CLOUD_INIT_RESULT = "/run/cloud-init/result.json";

/**
 * cloud-init's result file, read through the guest agent: "done" when it lists no errors, else
 * "error" with them. Works where the serial console is not cloud-init's (no console=ttyS0), and
 * costs the guest no process (the agent reads the file). Text that is not its JSON: undefined.
 */
export function cloudInitResult(text: string): { state: "done" } | { state: "error"; text: string } | undefined {
  let result: { v1?: { errors?: unknown[] } };
  try {
    result = JSON.parse(text);
  } catch {
    return undefined;
  }
  const errors = result?.v1?.errors;
  if (!Array.isArray(errors)) return undefined;
  return errors.length ? { state: "error", text: errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e))).join("\n") } : { state: "done" };
}
