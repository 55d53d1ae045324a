/**
 * A command in a test guest as root, over its forwarded SSH port, on a connection of its own that
 * is closed after it. The guests are throwaway, made fresh by each test: their host keys are not pinned.
 */
import { sshTransport, type ExecResult } from "../../provider/transport";

export async function guestExec(g: { host: string; port: number }, privateKey: string, argv: string[]): Promise<ExecResult> {
  const t = sshTransport({ host: g.host, port: g.port, user: "root", privateKey, insecureAcceptAnyHostKey: true, connectTimeoutMs: 20000 });
  try {
    return await t.exec(argv);
  } finally {
    await t.close();
  }
}
