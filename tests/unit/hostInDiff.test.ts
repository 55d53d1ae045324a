/**
 * What a preview shows for a Host's dependents while the Host is updated in place (new
 * credentials): its connection is unknown, its id (the identity) is not. The same identity is an
 * in-place update, never a replace; no known id, or another one, stays a replace.
 */
import * as assert from "assert";
import { connectionIdentity, hostInDiff } from "../../provider/resources/connection";
import * as disk from "../../provider/resources/disk";
import * as caps from "../../provider/resources/hostCapabilities";
import * as vm from "../../provider/resources/vm";
import { UNKNOWN } from "../../provider/resources/types";
import { vmSpec, type VmInputs } from "../../provider/vm/spec";
import type { Connection } from "../../provider/transport";

const recorded: Connection = { kind: "ssh", host: "10.0.0.5", user: "ops", privateKey: "old key", hostKey: "ssh-ed25519 AAAA", workDir: "/home/ops/.pulumi-qemu" };
const sameId = connectionIdentity(recorded);
const unknownHost = UNKNOWN as unknown as Connection;

describe("hostInDiff: an unknown connection beside its Host's id", () => {
  const cases: Array<[string, Connection, unknown, { replaced: boolean; credentials: boolean; recordedStandsIn: boolean }]> = [
    ["unknown connection, the same Host id: credentials only", unknownHost, sameId, { replaced: false, credentials: true, recordedStandsIn: true }],
    ["unknown connection, no id (built by hand): replace", unknownHost, undefined, { replaced: true, credentials: false, recordedStandsIn: false }],
    ["unknown connection, unknown id (the Host is replaced): replace", unknownHost, UNKNOWN, { replaced: true, credentials: false, recordedStandsIn: false }],
    ["unknown connection, another Host's id: replace", unknownHost, "ssh://ops@10.0.0.6:22/home/ops/.pulumi-qemu", { replaced: true, credentials: false, recordedStandsIn: false }],
    ["an id that is not a string: replace", unknownHost, { id: sameId }, { replaced: true, credentials: false, recordedStandsIn: false }],
    ["connection known, new key: credentials", { ...recorded, privateKey: "new key" }, sameId, { replaced: false, credentials: true, recordedStandsIn: false }],
    ["connection known, other address, a stale id: the connection wins", { ...recorded, host: "10.0.0.6" }, sameId, { replaced: true, credentials: false, recordedStandsIn: false }],
    ["connection known and the same: nothing", { ...recorded }, sameId, { replaced: false, credentials: false, recordedStandsIn: false }],
  ];
  for (const [what, news, hostId, expected] of cases) {
    it(what, () => {
      const r = hostInDiff(recorded, news, hostId);
      assert.deepStrictEqual({ replaced: r.replaced, credentials: r.credentials, recordedStandsIn: r.host === recorded }, expected);
    });
  }
});

describe("dependents' diff in a preview of a Host credential change", () => {
  const vmInputs: VmInputs = { host: recorded, name: "web", memory: "256M", ports: [{ host: 2222, guest: 22 }] };
  const vmOlds = { ...vmInputs, spec: vmSpec(vmInputs).spec, status: "running", statusDetail: "" } as unknown as vm.VmOutputs;
  const diskOlds = { host: recorded, name: "data", format: "qcow2", size: "1G", path: "/home/ops/.pulumi-qemu/disks/data.qcow2", virtualSizeBytes: 1 << 30, actualSizeBytes: 0 } as unknown as disk.DiskOutputs;
  const capsOlds = { host: recorded, guestArch: "x86_64", hostFacts: { arch: "x86_64" } } as unknown as caps.HostCapabilitiesOutputs;
  const cases: Array<[string, unknown, { changes: boolean; replaces: string[] }, { changes: boolean; replaces: string[] }]> = [
    ["the Host's id known and the same: update in place", sameId, { changes: true, replaces: [] }, { changes: true, replaces: [] }],
    ["no id: replace, as before", undefined, { changes: true, replaces: ["host"] }, { changes: true, replaces: ["host", "path"] }],
  ];
  for (const [what, hostId, vmExpected, diskExpected] of cases) {
    it(`Vm: ${what}`, async () => {
      const d = await vm.diff("id", vmOlds, { ...vmInputs, host: unknownHost, hostId: hostId as string });
      assert.deepStrictEqual({ changes: d.changes, replaces: d.replaces }, vmExpected);
    });
    it(`Disk: ${what}`, async () => {
      const d = await disk.diff("id", diskOlds, { host: unknownHost, hostId: hostId as string, name: "data", size: "1G" });
      assert.deepStrictEqual({ changes: d.changes, replaces: d.replaces }, diskExpected);
    });
  }
  it("HostCapabilities: an update either way (never replaced), judged against the recorded host", async () => {
    const d = await caps.diff("id", capsOlds, { host: unknownHost, hostId: sameId });
    assert.deepStrictEqual(d, { changes: true, replaces: [] });
  });
});
