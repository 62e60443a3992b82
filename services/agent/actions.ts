// The agent's action table: one entry per bus action (services/bus/actions.ts), each the node operation of
// that name (node/index.ts) called with the request's arguments. No logic of its own: validation, locking,
// idempotency of the operation itself and every error are the node layer's.

import {
  addSshKey,
  cartridgeStatus,
  checkNode,
  controlCartridge,
  createGear,
  destroyGear,
  inspectGear,
  installCartridge,
  listGears,
  listSshKeys,
  readGearFrontend,
  removeCartridge,
  removeGearFrontend,
  removeSshKey,
  setGearFrontend,
  updateGear,
  type GearFrontendSpec,
  type NodeContext,
} from "../../node";
import type { Action, ActionArgs, NodeFacts } from "../bus/actions";

/** What an action runs with: the node's context, and the agent's facts (node.facts). */
export interface AgentEnv {
  readonly ctx: NodeContext;
  facts(): Promise<NodeFacts>;
}

export type ActionTable = {
  readonly [A in Action]: (env: AgentEnv, args: ActionArgs[A]) => Promise<unknown>;
};

export const ACTION_TABLE: ActionTable = {
  "gear.create": ({ ctx }, a) => createGear(ctx, a),
  "gear.destroy": ({ ctx }, a) => destroyGear(ctx, a.uuid),
  "gear.inspect": ({ ctx }, a) => inspectGear(ctx, a.uuid),
  "gear.update": ({ ctx }, a) => updateGear(ctx, a),
  "gear.list": ({ ctx }) => listGears(ctx),
  "cartridge.install": ({ ctx }, { uuid, ...request }) => installCartridge(ctx, uuid, request),
  "cartridge.remove": ({ ctx }, a) => removeCartridge(ctx, a.uuid, a.name),
  "cartridge.control": ({ ctx }, a) => controlCartridge(ctx, a.uuid, a.name, a.action, a.args ?? []),
  "cartridge.status": ({ ctx }, a) => cartridgeStatus(ctx, a.uuid, a.name),
  // as `geartrain node frontend set`: the result is the route as the node now has it
  "frontend.set": async ({ ctx }, a) => {
    await setGearFrontend(ctx, a as GearFrontendSpec);
    return readGearFrontend(ctx, a.gearUuid);
  },
  "frontend.remove": async ({ ctx }, a) => {
    await removeGearFrontend(ctx, a.uuid);
    return { gearUuid: a.uuid, removed: true };
  },
  "frontend.read": ({ ctx }, a) => readGearFrontend(ctx, a.uuid),
  "sshkey.add": ({ ctx }, a) => addSshKey(ctx, a.uuid, { key: a.key, name: a.name }),
  "sshkey.remove": ({ ctx }, a) => removeSshKey(ctx, a.uuid, { name: a.name, fingerprint: a.fingerprint }),
  "sshkey.list": ({ ctx }, a) => listSshKeys(ctx, a.uuid),
  "node.check": ({ ctx }) => checkNode(ctx),
  "node.facts": (env) => env.facts(),
};
