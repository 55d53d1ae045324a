/** Issue 30: how an image by URL is declared and named in the host's cache (pure). */
import * as assert from "assert";
import { cacheEntryName, compressionOf, declaredDigest, imageUrl } from "../../provider/images/source";
import { hostOps } from "../../provider/platform";

describe("image sources (url, digest, compression)", () => {
  const hex64 = "ab".repeat(32);
  it("takes exactly one digest of the right length, lowercased", () => {
    assert.deepStrictEqual(declaredDigest({ sha256: hex64.toUpperCase() }), { algorithm: "sha256", hex: hex64 });
    assert.deepStrictEqual(declaredDigest({ sha512: "cd".repeat(64) }), { algorithm: "sha512", hex: "cd".repeat(64) });
    const cases: Array<[object, RegExp]> = [
      [{}, /: sha256: give exactly one of sha256 and sha512/],
      [{ sha256: hex64, sha512: "cd".repeat(64) }, /: sha256: give exactly one/],
      [{ sha256: hex64.slice(2) }, /: sha256: must be 64 hexadecimal digits/],
      [{ sha512: hex64 }, /: sha512: must be 128 hexadecimal digits/],
      [{ sha256: "g".repeat(64) }, /: sha256: must be 64/],
      [{ sha256: 7 }, /: sha256: must be 64/],
    ];
    for (const [given, expected] of cases) assert.throws(() => declaredDigest(given as never), expected, JSON.stringify(given));
  });

  it("takes http and https URLs without credentials, spaces or control characters", () => {
    assert.strictEqual(imageUrl("https://cloud.debian.org/images/x.qcow2").host, "cloud.debian.org");
    const cases: Array<[unknown, RegExp]> = [
      ["ftp://mirror/x.qcow2", /: url: must be an http:\/\/ or https:\/\/ URL/],
      ["file:///etc/shadow", /: url: must be an http/],
      ["https://user:pw@mirror/x", /: url: must not hold credentials/],
      ["https://mirror/a b", /: url: must not hold spaces/],
      ["not a url", /: url: "not a url" is not a URL/],
      [undefined, /: url: /],
    ];
    for (const [given, expected] of cases) assert.throws(() => imageUrl(given), expected, String(given));
  });

  it("reads the compression from the file's name as distributions publish them", () => {
    const table: Array<[string, string]> = [
      ["https://m/debian-12-generic-amd64.qcow2", "none"], ["https://m/Fedora.raw.xz", "xz"], ["https://m/a.img.gz", "gz"],
      ["https://m/a.qcow2.zst", "zst"], ["https://m/a.raw.bz2", "bz2"], ["https://m/a.xz?sig=1", "xz"], ["https://m/a.XZ", "xz"],
    ];
    for (const [url, expected] of table) assert.strictEqual(compressionOf(new URL(url)), expected, url);
  });

  it("names a cache entry by the digest and format; the URL never reaches the fetch's command line", () => {
    assert.strictEqual(cacheEntryName("sha256", hex64, "qcow2"), `sha256-${hex64}.qcow2`);
    const argv = hostOps({ platform: "posix" }).imageFetch({ cacheDir: "/w/images/cache", entry: "e", algorithm: "sha256", hex: hex64, compression: "xz", timeoutMs: 1500, via: "host" });
    assert.deepStrictEqual(argv.slice(4), ["/w/images/cache", "e", "sha256", hex64, "xz", "2", "", "url"]);
    assert.ok(!argv.some((a) => a.includes("https://")), "a URL is on the argv");
  });
});
