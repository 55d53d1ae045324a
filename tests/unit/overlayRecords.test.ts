/** Issue 18, class 4: the overlay search's records are parsed, and anything unreadable is said, never dropped. */
import * as assert from "assert";
import { parseOverlayRecords } from "../../provider/disks/scripts";

describe("parseOverlayRecords", () => {
  const cases: Array<[string, string, { files: string[]; backings: Array<string | undefined>; unreadable: RegExp[] }]> = [
    ["a clone whose base has non-ASCII characters (QEMU escapes them)",
      'F/w/clone.qcow2\nJ{ "format": "qcow2", "full-backing-filename": "/w/b\\u00e4se.qcow2", "backing-filename": "b\\u00e4se.qcow2" }\nD0\n',
      { files: ["/w/clone.qcow2"], backings: ["/w/bäse.qcow2"], unreadable: [] }],
    ["an image that is not a clone", 'F/w/plain.qcow2\nJ{ "format": "qcow2" }\nD0\n', { files: ["/w/plain.qcow2"], backings: [undefined], unreadable: [] }],
    ["qemu-img failed", "F/w/broken.qcow2\nE1\nD0\n", { files: [], backings: [], unreadable: [/broken\.qcow2 \(qemu-img info exited 1\)/] }],
    ["an image deleted between the search and qemu-img (another delete running)", "F/w/gone.qcow2\nG\nF/w/c.qcow2\nJ{}\nD0\n", { files: ["/w/c.qcow2"], backings: [undefined], unreadable: [] }],
    ["JSON that does not parse", "F/w/odd.qcow2\nJ{ not json\nD0\n", { files: [], backings: [], unreadable: [/odd\.qcow2 \(qemu-img's JSON did not parse\)/] }],
    ["a backing file name that is not a string", 'F/w/odd.qcow2\nJ{ "full-backing-filename": 7 }\n', { files: [], backings: [], unreadable: [/odd\.qcow2/] }],
    ["find failed in a directory", "D1\n", { files: [], backings: [], unreadable: [/find exited 1/] }],
    ["a file with no answer (the output was cut)", "F/w/a.qcow2\nF/w/b.qcow2\nJ{}\n", { files: ["/w/b.qcow2"], backings: [undefined], unreadable: [/a\.qcow2 \(no answer/] }],
    ["a line that is no record (a newline in a file name)", "F/w/x\ny.qcow2\nJ{}\n", { files: [], backings: [], unreadable: [/an unreadable line: "y\.qcow2"/, /an unreadable line: "J{}"/] }],
  ];
  for (const [what, stdout, expected] of cases) {
    it(what, () => {
      const r = parseOverlayRecords(stdout);
      assert.deepStrictEqual(r.candidates.map((c) => c.file), expected.files);
      assert.deepStrictEqual(r.candidates.map((c) => c.backing), expected.backings);
      assert.strictEqual(r.unreadable.length, expected.unreadable.length, JSON.stringify(r.unreadable));
      expected.unreadable.forEach((re, i) => assert.match(r.unreadable[i], re));
    });
  }
});
