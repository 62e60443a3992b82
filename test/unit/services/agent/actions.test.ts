// The action table against a fake node layer: every action calls the node operation of its name with the
// request's arguments and returns its result unchanged (no logic of its own).

const calls: unknown[][] = [];
const op =
  (name: string) =>
  async (...args: unknown[]) => {
    calls.push([name, ...args.slice(1)]); // drop the context
    return { op: name };
  };

jest.mock("../../../../node", () => ({
  createGear: op("createGear"),
  destroyGear: op("destroyGear"),
  inspectGear: op("inspectGear"),
  updateGear: op("updateGear"),
  listGears: op("listGears"),
  installCartridge: op("installCartridge"),
  removeCartridge: op("removeCartridge"),
  controlCartridge: op("controlCartridge"),
  cartridgeStatus: op("cartridgeStatus"),
  setGearFrontend: op("setGearFrontend"),
  removeGearFrontend: op("removeGearFrontend"),
  readGearFrontend: op("readGearFrontend"),
  addSshKey: op("addSshKey"),
  removeSshKey: op("removeSshKey"),
  listSshKeys: op("listSshKeys"),
  checkNode: op("checkNode"),
  listRepository: op("listRepository"),
}));

import { ACTION_TABLE, type AgentEnv } from "../../../../services/agent/actions";
import { ACTIONS, type NodeFacts } from "../../../../services/bus/actions";

const U = "0123456789abcdef0123456789abcdef";
const facts = { node: "n1" } as NodeFacts;
const env: AgentEnv = { ctx: {} as AgentEnv["ctx"], facts: async () => facts };

beforeEach(() => (calls.length = 0));

test("the table has exactly the contract's actions", () => {
  expect(Object.keys(ACTION_TABLE).sort()).toEqual([...ACTIONS].sort());
});

test.each([
  [
    "gear.create",
    { uuid: U, uid: 1000, app: "a", namespace: "n" },
    [["createGear", { uuid: U, uid: 1000, app: "a", namespace: "n" }]],
  ],
  ["gear.destroy", { uuid: U }, [["destroyGear", U]]],
  ["gear.inspect", { uuid: U }, [["inspectGear", U]]],
  ["gear.update", { uuid: U, profile: "large" }, [["updateGear", { uuid: U, profile: "large" }]]],
  ["gear.list", {}, [["listGears"]]],
  [
    "cartridge.install",
    { uuid: U, name: "nodejs", version: "20" },
    [["installCartridge", U, { name: "nodejs", version: "20" }]],
  ],
  ["cartridge.remove", { uuid: U, name: "nodejs" }, [["removeCartridge", U, "nodejs"]]],
  [
    "cartridge.control",
    { uuid: U, name: "nodejs", action: "restart" },
    [["controlCartridge", U, "nodejs", "restart", []]],
  ],
  ["cartridge.status", { uuid: U }, [["cartridgeStatus", U, undefined]]],
  ["frontend.remove", { uuid: U }, [["removeGearFrontend", U]]],
  ["frontend.read", { uuid: U }, [["readGearFrontend", U]]],
  [
    "sshkey.add",
    { uuid: U, key: "ssh-ed25519 AAAA", name: "k" },
    [["addSshKey", U, { key: "ssh-ed25519 AAAA", name: "k" }]],
  ],
  ["sshkey.remove", { uuid: U, name: "k" }, [["removeSshKey", U, { name: "k", fingerprint: undefined }]]],
  ["sshkey.list", { uuid: U }, [["listSshKeys", U]]],
  ["node.check", {}, [["checkNode"]]],
] as const)("%s calls its node operation", async (action, args, expected) => {
  const fn = ACTION_TABLE[action] as (env: AgentEnv, a: unknown) => Promise<unknown>;
  const result = await fn(env, args);
  expect(calls).toEqual(expected);
  if (action !== "frontend.remove") expect(result).toEqual({ op: calls[0][0] });
});

test("frontend.set sets the route and returns it as the node has it", async () => {
  const spec = { gearUuid: U, hostnames: ["a-n.example.com"], routes: [] };
  await expect(ACTION_TABLE["frontend.set"](env, spec)).resolves.toEqual({ op: "readGearFrontend" });
  expect(calls).toEqual([
    ["setGearFrontend", spec],
    ["readGearFrontend", U],
  ]);
});

test("frontend.remove answers like `geartrain node frontend remove`; node.facts returns the agent's facts", async () => {
  await expect(ACTION_TABLE["frontend.remove"](env, { uuid: U })).resolves.toEqual({
    gearUuid: U,
    removed: true,
  });
  await expect(ACTION_TABLE["node.facts"](env, {})).resolves.toBe(facts);
});
