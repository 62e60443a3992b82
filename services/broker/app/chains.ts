// The pending-operation chains the application service runs on the store's OpEngine: the step tables of
// app.create (reserve a UID on the placed node → gear.create → cartridge.install per cartridge → the user's SSH
// keys → check the frontend route → DNS record) and app.delete, each step with its undo, so a failure anywhere
// rolls back in reverse and any broker can finish a chain after a crash; and place(), which picks the node.

import { OperationFailedError, reportOf, UnavailableError } from "../../../common/errors";
import type { GearProfile } from "../../../common/profiles";
import { noNodeMessage, placeGear } from "../model/placement";
import type { Application, Domain, Json } from "../model/types";
import {
  applications,
  districts,
  gears,
  nodes,
  sshKeys,
  placementCandidates,
  type ChainResult,
  type Queryable,
  type StepTable,
} from "../store";
import { fqdn, type ServiceContext } from "./context";
import { BrokerConflictError, NoNodeAvailableError } from "./errors";

/**
 * The error a failed chain answers with: a node that did not answer stays UnavailableError (503), as does
 * anything else of a kind the caller can act on (not found, conflict); anything else, including a
 * validation error of a value the broker made itself, is an OperationFailedError (500) naming the step.
 */
export function chainError(what: string, r: ChainResult): Error {
  const rep = reportOf(r.error);
  const step = r.op.error?.step ? ` at step ${r.op.error.step}` : "";
  const undone = /undo of .* failed/.test(r.op.error?.message ?? "")
    ? "; an undo failed too (geartrain check reports it)"
    : "; everything done was undone";
  const text = `${what} failed${step}: ${rep.message}${undone}`;
  if (rep.kind === "unavailable") return new UnavailableError(text);
  if (rep.kind === "not_found" || rep.kind === "conflict")
    return Object.assign(r.error as Error, { message: text });
  return new OperationFailedError(text);
}

interface PlaceResult {
  [k: string]: Json;
  node: string;
  districtId: string;
  uid: number;
  publicHostname: string;
}

export function stepsFor(ctx: ServiceContext, kind: string): StepTable {
  if (kind === "app.create") return createSteps(ctx);
  if (kind === "app.delete") return deleteSteps(ctx);
  throw new Error(`unknown pending operation kind ${kind}`);
}

function call(
  ctx: ServiceContext,
  node: string,
  action: string,
  args: Json,
  id: string,
  timeoutMs = ctx.cfg.nodeTimeoutMs,
) {
  return ctx.bus.call(node, action, args, { timeoutMs, id });
}

/** The node for a new gear: the store's candidates, less those the bus heard go silent, by placeGear (pure). */
async function place(
  ctx: ServiceContext,
  q: Queryable,
  profile: string,
  appId: string,
): Promise<{ node: string; districtId: string; publicHostname: string }> {
  const { now, nodes: all } = await placementCandidates(q, { appId });
  // A node this broker has heard go silent is out. One it has not heard from at all yet (it started or
  // reconnected moments ago) is judged by the store's last_seen, which every broker's facts update.
  const heard = all.filter((n) => {
    const live = ctx.bus.nodeStatus(n.identity);
    return live.status === "responsive" || live.lastHeard === null;
  });
  const req = {
    profile: profile as GearProfile,
    now,
    silenceMs: ctx.cfg.silenceMs,
    random: Math.random(),
  };
  const p = placeGear(heard, req);
  if (p.node) {
    return {
      node: p.node.identity,
      districtId: p.node.districtId,
      publicHostname: p.node.publicHostname ?? p.node.identity,
    };
  }
  const silent = all.length - heard.length;
  const excluded = silent
    ? { ...p.excluded, unresponsive: (p.excluded.unresponsive ?? 0) + silent }
    : p.excluded;
  throw new NoNodeAvailableError(noNodeMessage(profile, excluded));
}

function createSteps(ctx: ServiceContext): StepTable {
  return {
    record: {
      run: async () => null,
      undo: async (c) => {
        await applications.deleteApplication(ctx.db, String((c.args as { appId: string }).appId));
      },
    },
    place: {
      run: async (c) => {
        const { appId, gearId, profile } = c.args as { appId: string; gearId: string; profile: string };
        const existing = await gears.getGear(ctx.db, gearId);
        if (existing) {
          const rec = await nodes.getNode(ctx.db, existing.node);
          return {
            node: existing.node,
            districtId: existing.districtId,
            uid: existing.uid,
            publicHostname: rec?.facts?.publicHostname ?? existing.node,
          };
        }
        const chosen = await place(ctx, ctx.db, profile, appId);
        const placed: PlaceResult = await ctx.db.tx(async (q) => {
          const uid = await districts.reserveUid(q, chosen.districtId, gearId);
          await gears.createGear(q, {
            id: gearId,
            appId,
            districtId: chosen.districtId,
            uid,
            node: chosen.node,
          });
          return { ...chosen, uid };
        });
        return placed;
      },
      undo: async (c) => {
        const { gearId } = c.args as { gearId: string };
        await ctx.db.tx(async (q) => {
          await gears.deleteGear(q, gearId);
          await districts.releaseUidsOf(q, gearId);
        });
      },
    },
    gear: {
      run: async (c) => {
        const a = c.args as {
          gearId: string;
          appId: string;
          app: string;
          namespace: string;
          profile: string;
          env: Record<string, string>;
        };
        const pl = c.done.place as PlaceResult;
        await call(
          ctx,
          pl.node,
          "gear.create",
          {
            uuid: a.gearId,
            uid: pl.uid,
            app: a.app,
            namespace: a.namespace,
            appUuid: a.appId,
            profile: a.profile,
            env: a.env,
          },
          c.callId(),
        );
        return { node: pl.node };
      },
      undo: async (c, undo) => {
        const pl = c.done.place as PlaceResult | undefined;
        const gearId = (c.args as { gearId: string }).gearId;
        const node = pl?.node ?? (await gears.getGear(ctx.db, gearId))?.node;
        if (!node) return;
        try {
          await call(ctx, node, "gear.destroy", { uuid: gearId }, c.callId("undo"));
        } catch (err) {
          // gear.create got no answer and neither does the destroy: the create request carried an absolute
          // expiry, so an agent that comes back does not run it late. Release the UID; a gear the node made
          // anyway (it was running the request at the deadline) is what `geartrain check` reports.
          if (undo !== null || (err as { kind?: string }).kind !== "unavailable") throw err;
          ctx.log.warn(
            { gear: gearId, node, error: (err as Error).message },
            "gear.destroy unanswered after an unanswered gear.create",
          );
        }
      },
    },
    cartridge: {
      run: async (c) => {
        const a = c.args as { gearId: string; name: string; version: string };
        const pl = c.done.place as PlaceResult;
        const res = (await call(
          ctx,
          pl.node,
          "cartridge.install",
          { uuid: a.gearId, name: a.name, version: a.version },
          c.callId(),
          ctx.cfg.cartridgeTimeoutMs,
        )) as { messages?: { hook: string; output: string }[]; routes?: { status: string } } | null;
        return {
          messages: (res?.messages ?? []).map((m) => ({ hook: m.hook, output: m.output })),
          routes: res?.routes?.status ?? null,
        };
      },
      undo: async (c) => {
        const a = c.args as { gearId: string; name: string };
        const pl = c.done.place as PlaceResult | undefined;
        if (!pl) return;
        try {
          await call(
            ctx,
            pl.node,
            "cartridge.remove",
            { uuid: a.gearId, name: a.name },
            c.callId("undo"),
            ctx.cfg.cartridgeTimeoutMs,
          );
        } catch (err) {
          if ((err as { kind?: string }).kind !== "not_found") throw err;
        }
      },
    },
    keys: {
      run: async (c) => {
        const { gearId, userId } = c.args as { gearId: string; userId: string };
        const pl = c.done.place as PlaceResult;
        const keys = await sshKeys.listSshKeys(ctx.db, userId);
        for (const [i, k] of keys.entries())
          await call(
            ctx,
            pl.node,
            "sshkey.add",
            { uuid: gearId, key: `${k.type} ${k.content}`, name: k.name },
            c.callId(`k${i}`),
          );
        return { keys: keys.length };
      },
      undo: async () => undefined, // the gear's destroy takes its keys
    },
    route: {
      run: async (c) => {
        const { gearId } = c.args as { gearId: string };
        const pl = c.done.place as PlaceResult;
        // the web cartridge's install sets the gear's route (node/cartridge/frontend.ts); check it is there
        const route = await call(ctx, pl.node, "frontend.read", { uuid: gearId }, c.callId());
        if (!route)
          throw new OperationFailedError(
            `node ${pl.node} has no frontend route for gear ${gearId} after the install`,
            "frontend_failed",
          );
        return { hostnames: (route as { hostnames?: Json[] }).hostnames ?? [] };
      },
      undo: async (c) => {
        const pl = c.done.place as PlaceResult | undefined;
        if (pl)
          await call(
            ctx,
            pl.node,
            "frontend.remove",
            { uuid: (c.args as { gearId: string }).gearId },
            c.callId("undo"),
          );
      },
    },
    dns: {
      run: async (c) => {
        const { fqdn } = c.args as { fqdn: string };
        const pl = c.done.place as PlaceResult;
        await ctx.dns.upsert([{ name: fqdn, type: "CNAME", value: pl.publicHostname, ttl: 60 }]);
        return { fqdn, value: pl.publicHostname };
      },
      undo: async (c) => {
        await ctx.dns.remove([{ name: (c.args as { fqdn: string }).fqdn, type: "CNAME" }]);
      },
    },
    finish: {
      run: async (c) => {
        const { appId } = c.args as { appId: string };
        await ctx.db.tx(async (q) => {
          await applications.setApplicationState(q, appId, "started");
          for (const x of await applications.listCartridges(q, appId))
            await applications.setCartridgeStatus(q, appId, x.name, "started");
        });
        return null;
      },
      undo: async () => undefined,
    },
  };
}

function deleteSteps(ctx: ServiceContext): StepTable {
  const noUndo = async () => undefined;
  const ignoreGone = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if ((err as { kind?: string }).kind !== "not_found") throw err;
    }
  };
  return {
    unregister: {
      run: async (c) => {
        await ctx.dns.remove([{ name: (c.args as { fqdn: string }).fqdn, type: "CNAME" }]);
        return null;
      },
      undo: noUndo,
    },
    unroute: {
      run: async (c) => {
        const { gearId, node } = c.args as { gearId: string; node: string };
        await ignoreGone(call(ctx, node, "frontend.remove", { uuid: gearId }, c.callId()));
        return null;
      },
      undo: noUndo,
    },
    destroy: {
      run: async (c) => {
        const { gearId, node } = c.args as { gearId: string; node: string };
        await ignoreGone(
          call(ctx, node, "gear.destroy", { uuid: gearId }, c.callId(), ctx.cfg.cartridgeTimeoutMs),
        );
        return null;
      },
      undo: noUndo,
    },
    release: {
      run: async (c) => {
        const { gearId } = c.args as { gearId: string };
        await ctx.db.tx(async (q) => {
          await gears.deleteGear(q, gearId);
          await districts.releaseUidsOf(q, gearId);
        });
        return null;
      },
      undo: noUndo,
    },
    forget: {
      run: async (c) => {
        await applications.deleteApplication(ctx.db, (c.args as { appId: string }).appId);
        return null;
      },
      undo: noUndo,
    },
  };
}

export async function deleteApp(ctx: ServiceContext, a: Application, d: Domain): Promise<void> {
  if (a.state === "creating" || a.state === "deleting") {
    const { rows } = await ctx.db.query(
      `SELECT 1 FROM pending_ops WHERE app_id = $1 AND state IN ('pending', 'running', 'rolling_back')`,
      [a.id],
    );
    if (rows.length)
      throw new BrokerConflictError(
        `application ${a.name} is being ${a.state === "creating" ? "created" : "deleted"}; try again later`,
        1,
      );
  }
  await applications.setApplicationState(ctx.db, a.id, "deleting");
  const gs = await gears.listGears(ctx.db, a.id);
  const steps: { name: string; args: Json }[] = [
    { name: "unregister", args: { fqdn: fqdn(ctx, a.name, d.namespace) } },
    ...gs.flatMap((g): { name: string; args: Json }[] => [
      { name: `unroute:${g.id}`, args: { gearId: g.id, node: g.node } },
      { name: `destroy:${g.id}`, args: { gearId: g.id, node: g.node } },
      { name: `release:${g.id}`, args: { gearId: g.id, node: g.node } },
    ]),
    { name: "forget", args: { appId: a.id } },
  ];
  const r = await ctx.chains.start("app.delete", a.id, steps);
  if (r.state !== "done") {
    await applications.setApplicationState(ctx.db, a.id, "failed").catch(() => undefined);
    throw chainError(`deleting application ${a.name}`, r);
  }
}
