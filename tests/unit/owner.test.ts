/** Who owns a VM's state directory (provider/vm/owner.ts): a table of records and tokens. */
import * as assert from "assert";
import { describeOwner, judgeOwner, ownedName, ownedNameForChecks, ownerId, ownerRecordText, type OwnerVerdict } from "../../provider/vm/owner";

const A = "a".repeat(64);
const C = "c".repeat(64);
const recordOf = (token: string) => ownerRecordText(token, { project: "lab", stack: "ci-1", resource: "hold" }, new Date(0));

describe("owner of a state directory", () => {
  const cases: Array<[string, string | undefined, string | undefined, OwnerVerdict]> = [
    ["no record, a resource of an older release", undefined, undefined, { kind: "unclaimed" }],
    ["no record, a resource with a token (claims it)", undefined, A, { kind: "unclaimed" }],
    ["an empty record counts as none", "  \n", A, { kind: "unclaimed" }],
    ["its own record", recordOf(A), A, { kind: "ours" }],
    ["another stack's record", recordOf(C), A, { kind: "other", owner: "project lab, stack ci-1, resource hold" }],
    ["a record, and a resource with no token", recordOf(C), undefined, { kind: "other", owner: "project lab, stack ci-1, resource hold" }],
    ["an unreadable record fails closed", "{not json", A, { kind: "other", owner: "an owner whose record cannot be read" }],
    ["a record without an id fails closed", '{"project":"lab"}', A, { kind: "other", owner: "an owner whose record cannot be read" }],
    ["a record with no names", JSON.stringify({ id: ownerId(C) }), A, { kind: "other", owner: "an owner with no name recorded" }],
  ];
  for (const [what, text, token, expected] of cases) it(what, () => assert.deepStrictEqual(judgeOwner(text, token), expected));

  it("the record holds the token's digest, never the token", () => {
    const text = recordOf(A);
    assert.ok(!text.includes(A));
    assert.deepStrictEqual(JSON.parse(text), { id: ownerId(A), project: "lab", stack: "ci-1", resource: "hold", created: "1970-01-01T00:00:00.000Z" });
    assert.match(ownerId(A), /^[0-9a-f]{32}$/);
  });

  it("names on the host differ per token and have the checks' length", () => {
    assert.notStrictEqual(ownedName("web", A), ownedName("web", C));
    assert.match(ownedName("web", A), /^web\.[0-9a-f]{8}$/);
    assert.strictEqual(ownedName("web", A).length, ownedNameForChecks("web").length);
    assert.strictEqual(describeOwner({ stack: "dev" }), "stack dev");
  });
});
