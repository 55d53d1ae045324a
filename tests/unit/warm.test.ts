/** A WarmState's pure parts: the QEMU argv of a build, a resume and a later boot; a resumed VM's NICs; Vm warmFrom's checks. */
import * as assert from "assert";
import { qemuArgv } from "../../provider/vm/argv";
import { vmSpec } from "../../provider/vm/spec";
import * as vm from "../../provider/resources/vm";
import { UNKNOWN } from "../../provider/resources/types";
import { vmLayout } from "../../provider/layout";
import { warmSeedProblem } from "../../provider/vm/warm";
import { defaultMac } from "../../provider/subnet";
import { ownNics, reidentifyArgv } from "../../provider/vm/reidentify";

const base = { host: { kind: "local" as const, workDir: "/w" }, name: "m", memory: "256M", disks: ["/w/d.qcow2"], guestAgent: true, warmFrom: "/w/warm/ab" };
const argv = (warmMemory?: { path: string; share: boolean; incoming: boolean }, inputs: object = base) =>
  qemuArgv(vmSpec(inputs as never).spec, { qemuBinary: "qemu-system-x86_64", accelerators: ["tcg"], layout: vmLayout("/w", "m"), warmMemory }).join(" ");

describe("WarmState: argv, NICs and checks", () => {
  it("a build writes the RAM to the state's file (shared); a resume maps it private and waits for the devices' state; a later boot has neither", () => {
    const build = argv({ path: "/w/warm/ab/memory", share: true, incoming: false });
    assert.match(build, / -machine q35,memory-backend=pq-ram /);
    assert.match(build, / -object memory-backend-file,id=pq-ram,size=256M,mem-path=\/w\/warm\/ab\/memory,share=on/);
    assert.doesNotMatch(build, /-incoming/);
    const resume = argv({ path: "/w/warm/ab/memory", share: false, incoming: true });
    assert.match(resume, /share=off -incoming defer/);
    const boot = argv(undefined);
    assert.doesNotMatch(boot, /memory-backend|-incoming/);
    // The devices are the state's in all three: the generation ID device tells the guest it is a copy.
    for (const a of [build, resume, boot]) assert.match(a, / -device vmgenid,guid=auto/);
    assert.doesNotMatch(argv(undefined, { ...base, warmFrom: undefined }), /vmgenid/);
  });

  it("a resumed VM's private NICs are found by the saved guest's MAC at the same position, and get the MAC and address of their own", () => {
    const spec = vmSpec({ ...base, networks: [{ type: "user" }, { type: "private", network: "lab", subnet: "10.77.0.0/24", address: "10.77.0.13" }] } as never).spec;
    const nics = ownNics(spec, [defaultMac(0), defaultMac(1)]);
    assert.deepStrictEqual(nics, [{ savedMac: "52:54:00:12:34:57", mac: "52:54:0a:4d:00:0d", cidr: "10.77.0.13/24" }]);
    assert.deepStrictEqual(reidentifyArgv("m", 5, nics).slice(3), ["reidentify", "m", "5", "52:54:00:12:34:57", "52:54:0a:4d:00:0d", "10.77.0.13/24"]);
    assert.throws(() => ownNics(spec, [defaultMac(0)]), /saved guest had 1 NICs/);
  });

  it("warmFrom needs the agent and a disk, and must be an absolute path; a seed is judged against the state's at the create", () => {
    const errors = (o: object) => vmSpec({ ...base, ...o } as never).errors.map((e) => `${e.property}: ${e.reason}`);
    assert.deepStrictEqual(errors({}), []);
    assert.match(errors({ guestAgent: undefined }).join(), /^warmFrom: needs guestAgent: true/);
    assert.match(errors({ disks: [] }).join(), /^warmFrom: needs a first disk/);
    assert.deepStrictEqual(errors({ cloudInit: { userData: "#cloud-config\n" } }), []);
    assert.match(errors({ warmFrom: "warm/ab" }).join(), /^warmFrom: /);
  });

  it("a VM's seed fits the saved guest only with the saved guest's instance-id, and only when the saved guest had a seed", () => {
    const cases: Array<[string | undefined, string | undefined, string | undefined]> = [
      [undefined, undefined, undefined],
      ["warm-ab-1", "warm-ab-1", undefined],
      ["warm-ab-1", undefined, "cloudInit: is needed: the saved guest has a cloud-init seed drive"],
      [undefined, "m-1", "cloudInit: must be left out: the saved guest had no cloud-init seed drive"],
      ["warm-ab-1", "m-1", "cloudInit.metaData.instance-id: is \"m-1\", not the saved guest's \"warm-ab-1\""],
    ];
    for (const [saved, own, expected] of cases) {
      const p = warmSeedProblem(saved, own);
      const said = p && `${p.property}: ${p.reason}`;
      if (expected === undefined) assert.strictEqual(said, undefined, `${saved} ${own}`);
      else assert.ok(said?.startsWith(expected), `${saved} ${own}: ${said}`);
    }
    // The instance-id a VM's seed carries is the one it is judged by.
    const own = vmSpec({ ...base, cloudInit: { userData: "#cloud-config\n", metaData: { "instance-id": "warm-ab-1" } } } as never).cloudInitInstanceId;
    assert.strictEqual(warmSeedProblem("warm-ab-1", own), undefined);
  });

  it("a preview of a new member, whose clone's path is not known yet, passes the check", async () => {
    const checked = await vm.check({}, { ...base, disks: [UNKNOWN] } as never);
    assert.deepStrictEqual(checked.failures, undefined);
  });
});
