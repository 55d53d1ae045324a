import * as assert from "assert";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { remoteFileProvider } from "../e2e/fixtures/remoteFile";
import { roundTripProvider } from "../helpers/dynamicProvider";

describe("serialized dynamic providers (the engine's path, without the CLI)", () => {
  it("RemoteFile: stays a few KB, captures no module or connection, and runs after loading back", async () => {
    const { text, provider } = await roundTripProvider(remoteFileProvider);
    assert.ok(text.length < 4096, `serialized provider is ${text.length} bytes`);
    assert.doesNotMatch(text, /ssh2|BEGIN OPENSSH|privateKey:/);
    const dir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-serialized-"));
    try {
      const file = path.join(dir, "f.txt");
      const props = { connection: { kind: "local" }, path: file, content: "one" };
      const created = await provider.create!(props);
      assert.strictEqual(readFileSync(file, "utf8"), "one");
      const read = await provider.read!(created.id, props);
      assert.strictEqual(read.props!.content, "one");
      await provider.delete!(created.id, props);
      assert.ok(!existsSync(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
