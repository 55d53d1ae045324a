/**
 * The base of the stand-ins for hosts this machine cannot be (a Mac, a lying KVM): every
 * command runs here, on the local transport, after the stand-in has rewritten it.
 */
import { LocalTransport, type ExecOptions, type ExecResult, type SizedStream, type Transport, type WriteOptions } from "../../provider/transport";

export abstract class RewritingLocalTransport implements Transport {
  abstract readonly description: string;
  readonly platform = "posix" as const;
  protected readonly local = new LocalTransport();

  /** The argv this machine runs in place of the one sent. */
  protected abstract rewrite(argv: string[]): string[];

  exec(argv: string[], options?: ExecOptions): Promise<ExecResult> { return this.local.exec(this.rewrite(argv), options); }
  execBuffer(argv: string[], options?: ExecOptions) { return this.local.execBuffer(this.rewrite(argv), options); }
  writeFile(p: string, data: string | Buffer | SizedStream, options?: WriteOptions) { return this.local.writeFile(p, data, options); }
  readFile(p: string) { return this.local.readFile(p); }
  connectUnix(p: string) { return this.local.connectUnix(p); }
  connectTcp(host: string, port: number) { return this.local.connectTcp(host, port); }
  async close(): Promise<void> {}
}
