// An in-process NodeCaller over a real test node (test/node/cartridge-helpers.ts): each bus action calls
// the node operation of that name, as the agent's action table does, with the real node doing the work.
// `down = true` makes every call fail as a NodeBus call to a stopped agent does (UnavailableError at the
// deadline). Used until the broker tests run the agent over ActiveMQ.

import {
  addSshKey,
  controlCartridge,
  createGear,
  destroyGear,
  inspectGear,
  installCartridge,
  listGears,
  listRepository,
  readGearFrontend,
  removeCartridge,
  removeGearFrontend,
  removeSshKey,
  setGearFrontend,
  UnavailableError,
  updateGear,
  type GearFrontendSpec,
  type NodeContext,
} from "../../../node";
import type { NodeCaller } from "../../../services/broker/app/ports";
import { nodes, type Db } from "../../../services/broker/store";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the action arguments, as the agent receives them
type Args = Record<string, any>;

export class LocalNode implements NodeCaller {
  down = false;
  calls: string[] = [];
  constructor(
    readonly name: string,
    private readonly ctx: NodeContext,
    private readonly facts: { profile: string; maxActiveGears: number; publicHostname: string },
  ) {}

  async call(node: string, action: string, a: Args, opts: { timeoutMs?: number } = {}): Promise<unknown> {
    if (node !== this.name) throw new UnavailableError(`no node ${node}`);
    this.calls.push(action);
    if (this.down) {
      await new Promise((r) => setTimeout(r, Math.min(opts.timeoutMs ?? 1000, 1000)));
      throw new UnavailableError(
        `node ${node} did not answer ${action} within ${opts.timeoutMs} ms: no reply`,
      );
    }
    const ctx = this.ctx;
    switch (action) {
      case "gear.create":
        return createGear(ctx, a, { inspect: false });
      case "gear.destroy":
        return destroyGear(ctx, a.uuid);
      case "gear.inspect":
        return inspectGear(ctx, a.uuid);
      case "gear.update":
        return updateGear(ctx, a);
      case "gear.list":
        return listGears(ctx);
      case "cartridge.install": {
        const { uuid, ...req } = a;
        return installCartridge(ctx, uuid, req);
      }
      case "cartridge.remove":
        return removeCartridge(ctx, a.uuid, a.name);
      case "cartridge.control":
        return controlCartridge(ctx, a.uuid, a.name, a.action, a.args ?? []);
      case "frontend.set":
        await setGearFrontend(ctx, a as GearFrontendSpec);
        return readGearFrontend(ctx, a.gearUuid);
      case "frontend.remove":
        await removeGearFrontend(ctx, a.uuid);
        return { gearUuid: a.uuid, removed: true };
      case "frontend.read":
        return readGearFrontend(ctx, a.uuid);
      case "sshkey.add":
        return addSshKey(ctx, a.uuid, { key: a.key, name: a.name });
      case "sshkey.remove":
        return removeSshKey(ctx, a.uuid, { name: a.name });
      default:
        throw new Error(`LocalNode: no action ${action}`);
    }
  }

  nodeStatus() {
    // a hung agent: its facts still arrive, its requests get no answer
    return { status: "responsive" as const, lastHeard: Date.now() };
  }

  /** Publishes this node's facts into the store, as the broker does with each facts message. */
  async report(db: Db): Promise<void> {
    const [gs, repo] = await Promise.all([listGears(this.ctx), listRepository(this.ctx.config)]);
    await nodes.recordFacts(db, {
      node: this.name,
      district: null,
      profile: this.facts.profile,
      activeGears: gs.length,
      maxActiveGears: this.facts.maxActiveGears,
      publicHostname: this.facts.publicHostname,
      cartridges: repo.cartridges.flatMap((c) =>
        c.versions.map((version) => ({
          name: c.name,
          version,
          type: c.categories.includes("web_framework") ? "standalone" : "embedded",
        })),
      ),
      at: Date.now(),
    });
  }
}
