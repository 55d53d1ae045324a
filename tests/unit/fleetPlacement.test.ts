/** Fleet placement, ports and names (pure): tables, stability under scaling, refusals with numbers. */
import * as assert from "assert";
import { parse } from "yaml";
import { InvalidArgumentError } from "../../provider/errors";
import * as pulumi from "@pulumi/pulumi";
import { createHash, randomBytes } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { baseImageFile, fleetSettings, type FleetArgs } from "../../sdk/fleet";
import { ansibleInventory, sshConfig, type FleetMember } from "../../provider/fleet/inventory";
import { memberNames, memberPorts, placeMembers, planPlacement, planSlots, rangeCapacity, type FleetHostCapacity, type PlacementRequest, type Seat } from "../../provider/fleet/placement";

const GiB = 2 ** 30;
const host = (key: string, memoryGiB: number, cores = 4, usableAccelerators?: string[]): FleetHostCapacity =>
  ({ key, cores, memoryBytes: memoryGiB * GiB, usableAccelerators });
const three = [host("h1", 4), host("h2", 4), host("h3", 4)];
const small = { cpus: 1, memoryBytes: GiB / 2 };

describe("fleet placement", () => {
  const cases: Array<[string, number, FleetHostCapacity[], "spread" | "pack", string[]]> = [
    ["spread: round robin", 6, three, "spread", ["h1", "h2", "h3", "h1", "h2", "h3"]],
    ["spread: fewer members than hosts", 2, three, "spread", ["h1", "h2"]],
    ["pack: fill the first host (4 GiB * 0.9 holds 7 of 0.5 GiB)", 9, three, "pack", ["h1", "h1", "h1", "h1", "h1", "h1", "h1", "h2", "h2"]],
    ["pack: uneven hosts", 3, [host("big", 1), host("b", 8)], "pack", ["big", "b", "b"]],
    ["no members", 0, three, "spread", []],
  ];
  for (const [what, count, hosts, placement, expected] of cases) {
    it(what, () => assert.deepStrictEqual(placeMembers(count, hosts, small, placement), expected));
  }

  it("growing or shrinking at the end never moves a member", () => {
    for (const placement of ["spread", "pack"] as const) {
      const at8 = placeMembers(8, three, small, placement);
      assert.deepStrictEqual(placeMembers(6, three, small, placement), at8.slice(0, 6), placement);
      assert.deepStrictEqual(placeMembers(4, three, small, placement), at8.slice(0, 4), placement);
    }
  });

  it("refuses more memory than the hosts have, with the numbers", () => {
    assert.throws(() => placeMembers(6, three, { cpus: 1, memoryBytes: 3 * GiB }, "spread"), (e: InvalidArgumentError) => {
      assert.strictEqual(e.property, "template.memory");
      assert.match(e.message, /6 members of 1 vCPU and 3\.0 GiB do not fit \(spread\)/);
      assert.match(e.message, /h1 has 1, room for 1: it has 4\.0 GiB \(90% for guests: 3\.6 GiB\)/);
      assert.match(e.message, /all hosts together have room for 3/);
      return true;
    });
    assert.throws(() => placeMembers(22, three, small, "pack"), /22 members .* do not fit \(pack\).*h3 has 7, room for 7.*room for 21/);
  });

  it("refuses a member with more vCPUs than a host has cores", () => {
    assert.throws(() => placeMembers(1, [host("h1", 64, 2)], { cpus: 4, memoryBytes: GiB }, "spread"), /h1 has 0, room for 0: it has 2 cores/);
  });

  it("places only on hosts that can use a named accelerator", () => {
    const hosts = [host("tcg-only", 4, 4, ["tcg"]), host("kvm", 4, 4, ["kvm", "tcg"])];
    assert.deepStrictEqual(placeMembers(2, hosts, { ...small, accelerator: "kvm" }, "spread"), ["kvm", "kvm"]);
    assert.deepStrictEqual(placeMembers(2, hosts, { ...small, accelerator: "auto" }, "spread"), ["tcg-only", "kvm"]);
    assert.throws(() => placeMembers(1, hosts, { ...small, accelerator: ["hvf", "whpx"] }, "spread"),
      /template\.accelerator.*no host can use \["hvf","whpx"\]: tcg-only has tcg; kvm has kvm, tcg/);
  });

  it("refuses an empty host list", () => assert.throws(() => placeMembers(1, [], small, "spread"), /hosts.*at least one host/));
});

describe("fleet placement kept across runs (seats recorded by the last run)", () => {
  const two = [host("h1", 4), host("h2", 4)];
  const seatsOf = (names: string[], hosts = two, placement: "spread" | "pack" = "spread") => planPlacement({ names, hosts, needs: small, placement }).seats;
  const hostsOf = (seats: Record<string, Seat>) => Object.fromEntries(Object.entries(seats).map(([m, s]) => [m, s.host]));
  const first = seatsOf(["web", "db", "cache", "queue"]);

  it("a new fleet: round robin, slots by position", () => {
    assert.deepStrictEqual(first, { web: { host: "h1", slot: 0 }, db: { host: "h2", slot: 1 }, cache: { host: "h1", slot: 2 }, queue: { host: "h2", slot: 3 } });
  });

  // Each row: what changes, the request, the seats expected, the moves expected.
  const rows: Array<[string, PlacementRequest, Record<string, string>, Record<string, number>, string[]]> = [
    ["removing a middle name moves nobody and keeps slots", { names: ["web", "cache", "queue"], hosts: two, needs: small, placement: "spread", previous: first },
      { web: "h1", cache: "h1", queue: "h2" }, { web: 0, cache: 2, queue: 3 }, []],
    ["a new member takes the lowest free slot and the emptiest host", { names: ["web", "cache", "queue", "log"], hosts: two, needs: small, placement: "spread", previous: { web: first.web, cache: first.cache, queue: first.queue } },
      { web: "h1", cache: "h1", queue: "h2", log: "h2" }, { web: 0, cache: 2, queue: 3, log: 1 }, []],
    ["adding a host moves nobody; new members go to it", { names: ["web", "db", "cache", "queue", "log"], hosts: [...two, host("h3", 4)], needs: small, placement: "spread", previous: first },
      { web: "h1", db: "h2", cache: "h1", queue: "h2", log: "h3" }, { web: 0, db: 1, cache: 2, queue: 3, log: 4 }, []],
    ["pack: a host reporting less memory keeps its members", { names: ["a", "b", "c"], hosts: [host("h1", 1.1), host("h2", 4)], needs: small, placement: "pack",
      previous: { a: { host: "h1", slot: 0 }, b: { host: "h1", slot: 1 }, c: { host: "h2", slot: 2 } } },
      { a: "h1", b: "h1", c: "h2" }, { a: 0, b: 1, c: 2 }, []],
    ["pack: more room on the first host does not pull members over", { names: ["a", "b", "c"], hosts: [host("h1", 64), host("h2", 4)], needs: small, placement: "pack",
      previous: { a: { host: "h1", slot: 0 }, b: { host: "h1", slot: 1 }, c: { host: "h2", slot: 2 } } },
      { a: "h1", b: "h1", c: "h2" }, { a: 0, b: 1, c: 2 }, []],
    ["a pin moves a member and says so", { names: ["web", "db"], hosts: two, needs: small, placement: "spread", previous: { web: first.web, db: first.db }, pins: { db: "h1" } },
      { web: "h1", db: "h1" }, { web: 0, db: 1 }, ["db h2->h1 pinned to h1"]],
    ["a removed host's members move and say why", { names: ["web", "db", "cache"], hosts: [host("h1", 4)], needs: small, placement: "spread", previous: first },
      { web: "h1", db: "h1", cache: "h1" }, { web: 0, db: 1, cache: 2 }, ["db h2->h1 its host h2 is no longer in hosts"]],
    ["rebalance places again but keeps slots", { names: ["web", "cache", "queue"], hosts: two, needs: small, placement: "spread", previous: first, rebalance: true },
      { web: "h1", cache: "h2", queue: "h1" }, { web: 0, cache: 2, queue: 3 }, ["cache h1->h2 rebalance", "queue h2->h1 rebalance"]],
  ];
  for (const [what, req, hosts, slots, moves] of rows) {
    it(what, () => {
      const plan = planPlacement(req);
      assert.deepStrictEqual(hostsOf(plan.seats), hosts);
      assert.deepStrictEqual(Object.fromEntries(Object.entries(plan.seats).map(([m, s]) => [m, s.slot])), slots);
      assert.deepStrictEqual(plan.moves.map((m) => `${m.member} ${m.from}->${m.to} ${m.why}`), moves);
    });
  }

  it("refuses a pin to no member or no host, and a member left on a host that cannot use the accelerator", () => {
    assert.throws(() => planPlacement({ names: ["a"], hosts: two, needs: small, placement: "spread", pins: { b: "h1" } }), /pin\.b.*no member "b"/);
    assert.throws(() => planPlacement({ names: ["a"], hosts: two, needs: small, placement: "spread", pins: { a: "h9" } }), /pin\.a.*no host "h9"/);
    const mixed = [host("h1", 4, 4, ["tcg"]), host("h2", 4, 4, ["kvm", "tcg"])];
    assert.throws(() => planPlacement({ names: ["a"], hosts: mixed, needs: { ...small, accelerator: "kvm" }, placement: "spread", previous: { a: { host: "h1", slot: 0 } } }),
      /template\.accelerator.*member a runs on h1, which cannot use "kvm" \(usable there: tcg\); pin it/);
  });

  it("a new member that fits nowhere is refused, the seated ones counted", () => {
    const tiny = [host("h1", 1.2), host("h2", 1.2)]; // room for 2 each
    const previous = { a: { host: "h1", slot: 0 }, b: { host: "h1", slot: 1 }, c: { host: "h2", slot: 2 }, d: { host: "h2", slot: 3 } };
    assert.throws(() => planPlacement({ names: ["a", "b", "c", "d", "e"], hosts: tiny, needs: small, placement: "spread", previous }), /5 members \(1 of them new\) .*h1 has 2, room for 2/);
  });

  it("slots: kept, and the lowest free ones for new members; a broken record is ignored", () => {
    assert.deepStrictEqual(planSlots(["c", "x", "y"], { c: { host: "h", slot: 2 } }), { c: 2, x: 0, y: 1 });
    assert.deepStrictEqual(planSlots(["a", "b"], { a: { host: "h", slot: 0 }, b: { host: "h", slot: 0 } }), { a: 0, b: 1 });
  });
});

describe("fleet ports and names", () => {
  it("gives each member a block of ports that depends only on its position", () => {
    assert.deepStrictEqual(memberPorts(0, 2, { from: 20000, to: 20099 }), [20000, 20001]);
    assert.deepStrictEqual(memberPorts(3, 2, { from: 20000, to: 20099 }), [20006, 20007]);
    assert.strictEqual(rangeCapacity(2, { from: 20000, to: 20099 }), 50);
    assert.strictEqual(rangeCapacity(0, { from: 20000, to: 20000 }), Infinity);
  });

  it("names members from a count or takes the given names", () => {
    assert.deepStrictEqual(memberNames("ci", 3, undefined), ["ci-0", "ci-1", "ci-2"]);
    assert.deepStrictEqual(memberNames("ci", undefined, ["web", "db"]), ["web", "db"]);
    assert.throws(() => memberNames("ci", 2, ["a"]), /count.*exactly one of count and names/);
    assert.throws(() => memberNames("ci", undefined, undefined), /exactly one/);
    assert.throws(() => memberNames("ci", -1, undefined), /count.*integer from 0 to 1000/);
    assert.throws(() => memberNames("ci", undefined, ["a", "../x"]), /names\[1\]/);
    assert.throws(() => memberNames("ci", undefined, ["a", "a"]), /names.*"a" is given twice/);
  });
});

describe("fleet inventory and ssh config", () => {
  const members: FleetMember[] = [
    { name: "ci-0", host: "h1", sshHost: "10.0.0.2", sshPort: 20000, sshUser: "root", status: "running", accelerator: "tcg" },
    { name: "ci-1", host: "lab-2", sshHost: "10.0.0.6", sshPort: 20001, sshUser: "root", status: "running" },
    { name: "ci-2", host: "h1", sshHost: "10.0.0.2", sshPort: 20002, sshUser: "root", status: "running" },
  ];

  it("Ansible inventory: a group per host, each member with its address and port", () => {
    const inventory = parse(ansibleInventory(members, "/k/id"));
    assert.deepStrictEqual(Object.keys(inventory.all.children), ["h1", "lab_2"]);
    assert.deepStrictEqual(inventory.all.children.h1.hosts["ci-2"],
      { ansible_host: "10.0.0.2", ansible_port: 20002, ansible_user: "root", ansible_ssh_private_key_file: "/k/id" });
    assert.deepStrictEqual(Object.keys(inventory.all.children.lab_2.hosts), ["ci-1"]);
  });

  it("ssh config: one Host block per member", () => {
    const text = sshConfig(members, "/k/id");
    assert.match(text, /^Host ci-1\n  HostName 10\.0\.0\.6\n  Port 20001\n  User root\n  IdentityFile "\/k\/id"\n  IdentitiesOnly yes\n/m);
    assert.strictEqual(text.match(/^Host /gm)!.length, 3);
    assert.doesNotMatch(sshConfig(members), /IdentityFile/);
  });
});

describe("Fleet settings (the component's plain inputs)", () => {
  const args = (extra: Partial<FleetArgs> = {}, template: Partial<FleetArgs["template"]> = {}): FleetArgs =>
    ({ hosts: {}, count: 3, template: { baseImage: "/img", ...template }, ...extra });
  const refused = (a: FleetArgs, message: RegExp) => assert.throws(() => fleetSettings("ci", a), (e: Error) => {
    assert.ok(e instanceof pulumi.RunError, "a RunError: the CLI prints it without a stack trace");
    assert.match(e.message, message);
    return true;
  });

  it("names the fleet, the property and the reason", () => {
    refused(args({ placement: "diagonal" as "spread" }), /^Fleet ci: placement: must be one of spread, pack, got "diagonal"$/);
    refused(args({ rollingUpdate: "yes" as unknown as boolean }), /^Fleet ci: rollingUpdate: must be true or false, got "yes"$/);
    refused(args({}, { memory: "lots" }), /^Fleet ci: template\.memory: /);
    refused(args({}, { cpus: 0 }), /^Fleet ci: template\.cpus: /);
    refused(args({ count: undefined }), /^Fleet ci: count: give exactly one of count and names$/);
    refused(args({ count: 4, portRange: { from: 30000, to: 30002 } }, { ports: [{ guest: 22 }] }), /^Fleet ci: portRange: 30000-30002 holds 3 members of 1 forwards, not 4$/);
  });

  // Issue 18, class 7: what is written into another tool's format is refused before anything runs.
  const injections: Array<[string, FleetArgs, RegExp]> = [
    ["a guestUser with a newline (it would add a ProxyCommand)", args({}, { guestUser: "root\n  ProxyCommand touch /tmp/x" }), /^Fleet ci: template\.guestUser: cannot be written into an ssh_config file/],
    ["a guestUser with a space", args({}, { guestUser: "ro ot" }), /^Fleet ci: template\.guestUser: /],
    ["a guestUser with a %-token", args({}, { guestUser: "%d" }), /^Fleet ci: template\.guestUser: /],
    ["a privateKeyFile with a newline", args({ privateKeyFile: "/k/id\nProxyCommand x" }), /^Fleet ci: privateKeyFile: cannot be written into an ssh_config file/],
    ["a privateKeyFile with a double quote", args({ privateKeyFile: '/k/"id' }), /^Fleet ci: privateKeyFile: /],
  ];
  for (const [what, a, message] of injections) it(`refuses ${what}`, () => refused(a, message));
  it("refuses a fleet whose name makes member names that are not names", () =>
    assert.throws(() => fleetSettings("ci\nHost *", args()), /Fleet ci\nHost \*: name \(the Fleet's resource name/));
  it("the writer itself refuses a member field it cannot hold, and quotes a key path with spaces and %", () => {
    const m: FleetMember = { name: "ci-0", host: "h1", sshHost: "10.0.0.2", sshPort: 20000, sshUser: "root", status: "running" };
    assert.throws(() => sshConfig([{ ...m, sshUser: "root\nProxyCommand x" }]), /template\.guestUser: cannot be written/);
    assert.throws(() => sshConfig([{ ...m, sshHost: "10.0.0.2 -oProxyCommand=x" }]), /hosts \(address\)/);
    assert.match(sshConfig([m], "/home/me/my keys/id%1"), /^  IdentityFile "\/home\/me\/my keys\/id%%1"$/m);
  });

  it("network: default addresses by slot from the 10th; given ones by position, checked; two members on one address refused", () => {
    const s = fleetSettings("ci", args({ network: { subnet: "10.77.0.0/24" } }));
    assert.deepStrictEqual([[0, 1, 2].map((i) => s.privateAddresses!(i, i)), s.prefix], [["10.77.0.10", "10.77.0.11", "10.77.0.12"], 24]);
    assert.strictEqual(s.privateAddresses!(0, 7), "10.77.0.17", "a member keeps its slot's address whatever its position");
    const given = fleetSettings("ci", args({ network: { subnet: "10.77.0.0/24", addresses: ["10.77.0.5", "10.77.0.6", "10.77.0.7"] } }));
    assert.deepStrictEqual([0, 1, 2].map((i) => given.privateAddresses!(i, 9)), ["10.77.0.5", "10.77.0.6", "10.77.0.7"]);
    refused(args({ network: { subnet: "10.77.0.0/24", addresses: ["10.77.0.5", "10.77.0.6", "10.77.0.5"] } }), /^Fleet ci: network\.addresses\[2\]: 10\.77\.0\.5 is already member 0's: two members cannot share an address$/);
    refused(args({ network: { subnet: "10.77.0.0/24", addresses: ["10.77.0.5", "10.78.0.6", "10.77.0.7"] } }), /^Fleet ci: network\.addresses\[1\]: 10\.78\.0\.6 is not a host address of 10\.77\.0\.0\/24/);
    refused(args({ network: { subnet: "10.77.0.0/24", addresses: ["10.77.0.5"] } }), /^Fleet ci: network\.addresses: must list an address for each of the 3 members$/);
    refused(args({ network: { subnet: "10.77.0.0/29" } }), /^Fleet ci: network\.subnet: 10\.77\.0\.0\/29 has 6 host addresses; number 12/);
    refused(args({ network: { subnet: "10.77.0.0" } }), /^Fleet ci: network\.subnet: must be an IPv4 subnet/);
    assert.strictEqual(fleetSettings("ci", args()).privateAddresses, undefined);
  });

  it("pin and rebalance are checked against the members and hosts", () => {
    const hosts = { h1: {} as never, h2: {} as never };
    refused(args({ hosts, pin: { "ci-7": "h1" } }), /^Fleet ci: pin\.ci-7: there is no member "ci-7"$/);
    refused(args({ hosts, pin: { "ci-0": "h3" } }), /^Fleet ci: pin\.ci-0: there is no host "h3" in hosts$/);
    refused(args({ hosts, rebalance: "yes" as unknown as boolean }), /^Fleet ci: rebalance: /);
    assert.doesNotThrow(() => fleetSettings("ci", args({ hosts, pin: { "ci-0": "h2" } })));
  });

  it("an inventory member on a network carries its private address", () => {
    const m: FleetMember = { name: "ci-0", host: "h1", sshHost: "10.0.0.2", sshPort: 20000, sshUser: "root", status: "running", privateAddress: "10.77.0.10" };
    assert.match(ansibleInventory([m]), /private_address: 10\.77\.0\.10/);
  });

  it("defaults: spread, one forward of the guest's SSH port, 512M", () => {
    const s = fleetSettings("ci", args());
    assert.deepStrictEqual([s.placement, s.forwards, s.needs.memoryBytes, s.names], ["spread", [{ guest: 22 }], 512 * 2 ** 20, ["ci-0", "ci-1", "ci-2"]]);
  });
});

describe("Fleet base image (the local file)", () => {
  it("is named by the sha256 of all its bytes (hashed in chunks) and its format read from its first bytes", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "fleet-image-"));
    try {
      // A header of zeros after the magic (no backing or data file), then random bytes.
      const bytes = Buffer.concat([Buffer.from("QFI\xfb", "latin1"), Buffer.alloc(100), randomBytes(9 * 2 ** 20)]);
      writeFileSync(path.join(dir, "my disk.qcow2"), bytes);
      const sha = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
      assert.deepStrictEqual(baseImageFile(path.join(dir, "my disk.qcow2")), { path: path.join(dir, "my disk.qcow2"), stem: `my_disk-${sha}`, format: "qcow2" });
      writeFileSync(path.join(dir, "raw.img"), "not qcow2");
      assert.strictEqual(baseImageFile(path.join(dir, "raw.img")).format, "raw");
      assert.throws(() => baseImageFile(path.join(dir, "missing")), /template\.baseImage: cannot read/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
