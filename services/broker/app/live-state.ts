// What the nodes really have for an application, and its repair: the reconciling clients' view (the Pulumi
// providers, docs/providers.md). `liveState` asks each gear's node (`gear.inspect`, `frontend.read`) and
// shapes the answer with `liveGear` (pure); `repairApplication` converges each gear to its spec
// (`gear.update` with only the uuid) and runs the cartridges to the application's state (start re-applies
// the frontend routes), then answers the live state again.

import { applications, gears } from "../store";
import { ownApp } from "./applications";
import type { ServiceContext } from "./context";
import { BrokerConflictError } from "./errors";
import type { AppRef, ApplicationLiveView, GearLiveView, Message, Principal, WithMessages } from "./types";

/** The parts of the node's `gear.inspect` answer this view reads (node/types.ts GearState). */
interface InspectAnswer {
  readonly phase?: string;
  readonly spec?: { readonly profile?: string | null } | null;
  readonly selinux?: { readonly label?: string | null };
  readonly cgroup?: { readonly values?: Readonly<Record<string, string | null>> };
  readonly cartridges?: readonly {
    readonly name: string;
    readonly version: string | null;
    readonly phase: string;
    readonly desired: string | null;
    readonly status: string;
  }[];
  readonly drift?: readonly { readonly field: string; readonly expected: string; readonly actual: string }[];
}

interface RouteAnswer {
  readonly hostnames?: readonly string[];
  readonly idle?: boolean;
}

/**
 * One gear's live view from the node's answers (pure). `inspect` null: the node has no such gear;
 * `error`: the node could not be asked (its message).
 */
export function liveGear(
  rec: { uuid: string; uid: number; node: string },
  inspect: InspectAnswer | null,
  route: RouteAnswer | null,
  error: string | null = null,
): GearLiveView {
  const carts = (inspect?.cartridges ?? []).filter((c) => c.phase !== "unrecorded");
  return {
    uuid: rec.uuid,
    uid: rec.uid,
    node: rec.node,
    present: inspect !== null && error === null,
    error,
    phase: inspect?.phase ?? null,
    profile: inspect?.spec?.profile ?? null,
    mcsLabel: inspect?.selinux?.label ?? null,
    cgroup: { ...(inspect?.cgroup?.values ?? {}) },
    drift: (inspect?.drift ?? []).map((d) => ({ field: d.field, expected: d.expected, actual: d.actual })),
    cartridges: carts.map((c) => ({
      name: c.version ? `${c.name}-${c.version}` : c.name,
      status: c.status,
      desired: c.desired,
    })),
    route: route ? { hostnames: [...(route.hostnames ?? [])], idle: route.idle === true } : null,
  };
}

const isGone = (err: unknown) => (err as { kind?: string }).kind === "not_found";

async function askNode(ctx: ServiceContext, rec: { uuid: string; uid: number; node: string }) {
  const opts = { timeoutMs: ctx.cfg.nodeTimeoutMs };
  try {
    // both only read: asked at once (a refresh reads every application of a stack)
    const [inspect, route] = (await Promise.all([
      ctx.bus
        .call(rec.node, "gear.inspect", { uuid: rec.uuid }, opts)
        .catch((e: unknown) => (isGone(e) ? null : Promise.reject(e))),
      ctx.bus.call(rec.node, "frontend.read", { uuid: rec.uuid }, opts),
    ])) as [InspectAnswer | null, RouteAnswer | null];
    return liveGear(rec, inspect, route);
  } catch (err) {
    return liveGear(rec, null, null, (err as Error).message);
  }
}

export async function liveState(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
): Promise<ApplicationLiveView> {
  const { a, d } = await ownApp(ctx, p, ref);
  const out: GearLiveView[] = [];
  for (const g of await gears.listGears(ctx.db, a.id))
    out.push(await askNode(ctx, { uuid: g.id, uid: g.uid, node: g.node }));
  return { id: a.id, name: a.name, domain: d.namespace, state: a.state, gearProfile: a.profile, gears: out };
}

export async function repairApplication(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
): Promise<WithMessages<ApplicationLiveView>> {
  const { a } = await ownApp(ctx, p, ref);
  if (a.state === "creating" || a.state === "deleting")
    throw new BrokerConflictError(
      `application ${a.name} is being ${a.state === "creating" ? "created" : "deleted"}`,
      1,
    );
  const carts = await applications.listCartridges(ctx.db, a.id);
  const stop = a.state === "stopped";
  // add-ons first on start, the web cartridge first on stop (as the events do)
  const sorted = [...carts].sort((x, y) => (x.type === y.type ? 0 : x.type === "web" ? 1 : -1));
  if (stop) sorted.reverse();
  const messages: Message[] = [];
  for (const g of await gears.listGears(ctx.db, a.id)) {
    await ctx.bus.call(g.node, "gear.update", { uuid: g.id }, { timeoutMs: ctx.cfg.nodeTimeoutMs });
    for (const c of sorted) {
      const res = (await ctx.bus.call(
        g.node,
        "cartridge.control",
        { uuid: g.id, name: c.name, action: stop ? "stop" : "start" },
        { timeoutMs: ctx.cfg.cartridgeTimeoutMs },
      )) as { ok?: boolean; stderr?: string } | null;
      if (res && res.ok === false)
        messages.push({ severity: "warning", text: `${c.name}: ${res.stderr?.trim() || "control failed"}` });
    }
  }
  return { value: await liveState(ctx, p, ref), messages };
}
