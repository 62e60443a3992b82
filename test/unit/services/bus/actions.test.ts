// The wire contract: requests, replies and facts are checked field by field; destinations.

import {
  ACTIONS,
  ARGS_SCHEMAS,
  factsTopic,
  factsWildcard,
  nodeQueue,
  replyQueue,
  validateArgs,
  validateFacts,
  validateReply,
  validateRequest,
} from "../../../../services/bus/actions";

const UUID = "0123456789abcdef0123456789abcdef";
const request = {
  id: "3b7c2f0e-1d7a-4c55-9a0b-3f1e2d4c5b6a",
  action: "gear.inspect",
  args: { uuid: UUID },
  replyTo: "/queue/geartrain.reply.b-1",
  expiresAt: 1_800_000_000_000,
  node: "node1",
};

test("every action has an argument schema", () => {
  expect(Object.keys(ARGS_SCHEMAS).sort()).toEqual([...ACTIONS].sort());
  expect(ACTIONS).toHaveLength(17);
});

test("a valid request passes; each bad field is named", () => {
  expect(validateRequest(request)).toEqual(request);
  expect(() => validateRequest({ ...request, id: "x" })).toThrow(/invalid request\.id/);
  expect(() => validateRequest({ ...request, action: "gear.frob" })).toThrow(/invalid request\.action/);
  expect(() => validateRequest({ ...request, node: "Node.1" })).toThrow(/invalid request\.node/);
  expect(() => validateRequest({ ...request, replyTo: "/topic/x" })).toThrow(/invalid request\.replyTo/);
  expect(() => validateRequest({ ...request, extra: 1 })).toThrow("invalid request.extra: is not allowed");
  const { expiresAt: _e, ...noExpiry } = request;
  expect(() => validateRequest(noExpiry)).toThrow("invalid request.expiresAt: is missing");
  expect(() => validateRequest({ ...request, args: { uuid: "nope" } })).toThrow(/invalid args\.uuid/);
});

test("arguments of each action", () => {
  expect(() =>
    validateArgs("gear.create", { uuid: UUID, uid: 1000, app: "a", namespace: "n" }),
  ).not.toThrow();
  expect(() => validateArgs("gear.create", { uuid: UUID, uid: "1000", app: "a", namespace: "n" })).toThrow(
    /invalid args\.uid/,
  );
  expect(() => validateArgs("gear.create", { uuid: UUID, app: "a", namespace: "n" })).toThrow(
    "invalid args.uid: is missing",
  );
  expect(() =>
    validateArgs("cartridge.control", { uuid: UUID, name: "nodejs", action: "start", args: [1] }),
  ).toThrow(/invalid args\.args\[0\]/);
  expect(() => validateArgs("gear.list", { x: 1 })).toThrow("invalid args.x: is not allowed");
  expect(() => validateArgs("frontend.set", { gearUuid: UUID, hostnames: [], routes: [] })).not.toThrow();
});

test("replies: ok with a result, or an error of a known kind with its exit code", () => {
  expect(validateReply({ id: request.id, node: "node1", ok: true, result: { a: 1 } }).ok).toBe(true);
  const failed = {
    id: request.id,
    node: "node1",
    ok: false,
    error: { kind: "not_found", message: "m", exitCode: 4 },
  };
  expect(validateReply(failed)).toEqual(failed);
  expect(() => validateReply({ ...failed, error: { kind: "weird", message: "m", exitCode: 1 } })).toThrow(
    /reply/,
  );
  expect(() => validateReply({ id: request.id, node: "node1", ok: false })).toThrow(/reply/);
});

test("facts", () => {
  const facts = {
    node: "node1",
    district: "d1",
    profile: "small",
    activeGears: 3,
    maxActiveGears: 100,
    publicHostname: "node1.example.com",
    cartridges: [{ name: "nodejs", version: "20", type: "standalone" }],
    at: 1,
  };
  expect(validateFacts(facts)).toEqual(facts);
  expect(() => validateFacts({ ...facts, activeGears: -1 })).toThrow(/invalid facts\.activeGears/);
});

test("destinations", () => {
  expect(nodeQueue("node1")).toBe("/queue/geartrain.node.node1");
  expect(replyQueue("b-1", "gt")).toBe("/queue/gt.reply.b-1");
  expect(factsTopic("node1")).toBe("/topic/geartrain.facts.node1");
  expect(factsWildcard()).toBe("/topic/geartrain.facts.>");
});
