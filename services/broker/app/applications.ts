// Applications, their cartridges, env vars and events. Creating an application checks the request, records it
// in one transaction and runs the app.create chain (chains.ts); the rest are direct node calls.

import type { GearProfile } from "../../../common/profiles";
import type { Json } from "../model/types";
import type { Application, Domain, NodeRecord } from "../model/types";
import { applications, domains, gears, nodes } from "../store";
import { consumedGears, userRow } from "./account";
import { catalogueOf, type CatalogueEntry } from "./catalogue";
import { chainError, deleteApp } from "./chains";
import { fqdn, type ServiceContext } from "./context";
import { ownDomain } from "./domains";
import {
  ApplicationNotFoundError,
  BrokerConflictError,
  BrokerNotFoundError,
  BrokerValidationError,
  LimitError,
  ORIGIN_CODE,
} from "./errors";
import type {
  AppCartridgeView,
  AppEvent,
  ApplicationView,
  AppRef,
  CartridgeEvent,
  EnvChange,
  EnvVar,
  Message,
  NewApplication,
  Principal,
  WithMessages,
} from "./types";

export async function catalogueEntries(ctx: ServiceContext): Promise<CatalogueEntry[]> {
  const list = await nodes.listNodes(ctx.db);
  return catalogueOf(list.map((n) => n.facts?.cartridges ?? []));
}

export async function catalogue(ctx: ServiceContext) {
  return catalogueEntries(ctx);
}

async function appView(ctx: ServiceContext, a: Application, d: Domain): Promise<ApplicationView> {
  const cat = await catalogueEntries(ctx);
  const carts = await applications.listCartridges(ctx.db, a.id);
  const gs = await gears.listGears(ctx.db, a.id);
  const nodeRecs = new Map<string, NodeRecord | null>();
  for (const g of gs) nodeRecs.set(g.node, await nodes.getNode(ctx.db, g.node));
  const cartridges: AppCartridgeView[] = carts.map((c) => {
    const name = `${c.name}-${c.version}`;
    const info = cat.find((x) => x.name === name);
    return {
      name,
      displayName: info?.displayName ?? name,
      type: c.type === "web" ? "standalone" : "embedded",
      tags: info?.tags ?? [],
      description: info?.description ?? "",
      properties: [],
      status: c.status,
    };
  });
  return {
    id: a.id,
    name: a.name,
    domain: d.namespace,
    createdAt: a.createdAt,
    gearProfile: a.profile,
    fqdn: fqdn(ctx, a.name, d.namespace),
    cartridges,
    gears: gs.map((g) => ({
      uuid: g.id,
      uid: g.uid,
      node: g.node,
      state: a.state,
      sshHost: nodeRecs.get(g.node)?.facts?.publicHostname ?? g.node,
      sshPort: ctx.cfg.sshPort,
    })),
    state: a.state,
  };
}

export async function ownApp(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
): Promise<{ a: Application; d: Domain }> {
  if ("id" in ref) {
    const a = /^[0-9a-f]{32}$/.test(ref.id) ? await applications.getApplication(ctx.db, ref.id) : null;
    const d = a ? await domains.getDomainById(ctx.db, a.domainId) : null;
    if (!a || !d || d.ownerId !== p.userId) throw new ApplicationNotFoundError(ref.id);
    return { a, d };
  }
  const d = await ownDomain(ctx, p, ref.domain);
  const a = /^[a-z0-9]{1,32}$/i.test(ref.name)
    ? await applications.getApplicationByName(ctx.db, d.id, ref.name)
    : null;
  if (!a) throw new ApplicationNotFoundError(ref.name);
  return { a, d };
}

export async function listApplications(ctx: ServiceContext, p: Principal, domain?: string) {
  if (domain !== undefined) {
    const d = await ownDomain(ctx, p, domain);
    return Promise.all((await applications.listApplications(ctx.db, d.id)).map((a) => appView(ctx, a, d)));
  }
  const out: ApplicationView[] = [];
  for (const d of await domains.listDomains(ctx.db, p.userId))
    for (const a of await applications.listApplications(ctx.db, d.id)) out.push(await appView(ctx, a, d));
  return out;
}

export async function getApplication(ctx: ServiceContext, p: Principal, ref: AppRef) {
  const { a, d } = await ownApp(ctx, p, ref);
  return appView(ctx, a, d);
}

export async function addApplication(
  ctx: ServiceContext,
  p: Principal,
  namespace: string,
  req: NewApplication,
): Promise<WithMessages<ApplicationView>> {
  const d = await ownDomain(ctx, p, namespace);
  const cat = await catalogueEntries(ctx);
  const carts = req.cartridges.map((n, i) => {
    const c = cat.find((x) => x.name === n);
    if (!c)
      throw new BrokerValidationError(
        `cartridges[${i}]`,
        `no cartridge ${n} on any node; available: ${cat.map((x) => x.name).join(", ") || "none"}`,
        ORIGIN_CODE.INVALID_CARTRIDGE,
      );
    return c;
  });
  const webs = carts.filter((c) => c.type === "standalone");
  if (webs.length !== 1)
    throw new BrokerValidationError(
      "cartridges",
      webs.length === 0
        ? `an application needs one web cartridge (one of ${cat
            .filter((c) => c.type === "standalone")
            .map((c) => c.name)
            .join(", ")})`
        : "an application has exactly one web cartridge",
      ORIGIN_CODE.INVALID_CARTRIDGE,
    );
  if (new Set(carts.map((c) => c.cartridge)).size !== carts.length)
    throw new BrokerValidationError(
      "cartridges",
      "a cartridge is named twice",
      ORIGIN_CODE.INVALID_CARTRIDGE,
    );
  const profile = (req.gearProfile ?? ctx.cfg.defaultProfile) as GearProfile;
  const u = await userRow(ctx, p);
  if ((await consumedGears(ctx, u.id)) >= u.maxGears)
    throw new LimitError(
      `${p.login} has already reached the gear limit of ${u.maxGears}`,
      ORIGIN_CODE.GEAR_LIMIT,
    );
  if (await applications.getApplicationByName(ctx.db, d.id, req.name))
    throw new BrokerConflictError(
      `The supplied application name '${req.name}' already exists`,
      ORIGIN_CODE.APP_NAME_TAKEN,
      "name",
    );
  // web cartridge first (the gear's frontend follows it), then the add-ons in the order given
  const ordered = [...webs, ...carts.filter((c) => c.type !== "standalone")];
  let app: Application;
  try {
    app = await ctx.db.tx(async (q) => {
      const a = await applications.createApplication(q, { name: req.name, domainId: d.id, profile });
      for (const c of ordered)
        await applications.addCartridge(q, {
          appId: a.id,
          name: c.cartridge,
          version: c.version,
          type: c.type === "standalone" ? "web" : "addon",
          status: "installing",
        });
      if (req.environmentVariables.length) await applications.setEnvVars(q, a.id, req.environmentVariables);
      return a;
    });
  } catch (err) {
    if ((err as { kind?: string }).kind === "conflict")
      throw new BrokerConflictError(
        `The supplied application name '${req.name}' already exists`,
        ORIGIN_CODE.APP_NAME_TAKEN,
        "name",
      );
    throw err;
  }
  const gearId = app.id; // the head gear's uuid is the application's, as in origin
  const env: Record<string, string> = {};
  for (const v of req.environmentVariables) env[v.name] = v.value;
  const steps: { name: string; args: Json }[] = [
    { name: "record", args: { appId: app.id } },
    { name: "place", args: { appId: app.id, gearId, profile } },
    { name: "gear", args: { gearId, appId: app.id, app: app.name, namespace: d.namespace, profile, env } },
    ...ordered.map((c) => ({
      name: `cartridge:${c.name}`,
      args: { gearId, name: c.cartridge, version: c.version },
    })),
    { name: "keys", args: { gearId, userId: p.userId } },
    { name: "route", args: { gearId } },
    { name: "dns", args: { fqdn: fqdn(ctx, app.name, d.namespace) } },
    { name: "finish", args: { appId: app.id } },
  ];
  const r = await ctx.chains.start("app.create", app.id, steps);
  if (r.state !== "done") throw chainError(`creating application ${app.name}`, r);
  const messages: Message[] = [];
  for (const [name, undo] of Object.entries(r.done)) {
    if (!name.startsWith("cartridge:")) continue;
    for (const m of (undo as { messages?: { hook: string; output: string }[] })?.messages ?? [])
      if (m.output.trim()) messages.push({ severity: "result", text: m.output.trim() });
  }
  const fresh = (await applications.getApplication(ctx.db, app.id))!;
  return { value: await appView(ctx, fresh, d), messages };
}

export async function removeApplication(ctx: ServiceContext, p: Principal, ref: AppRef) {
  const { a, d } = await ownApp(ctx, p, ref);
  await deleteApp(ctx, a, d);
}

async function controlAll(
  ctx: ServiceContext,
  a: Application,
  action: string,
  order: "forward" | "reverse",
): Promise<Message[]> {
  const carts = await applications.listCartridges(ctx.db, a.id);
  const sorted = [...carts].sort((x, y) => (x.type === y.type ? 0 : x.type === "web" ? 1 : -1)); // add-ons first
  if (order === "reverse") sorted.reverse();
  const messages: Message[] = [];
  for (const g of await gears.listGears(ctx.db, a.id)) {
    for (const c of sorted) {
      const res = (await ctx.bus.call(
        g.node,
        "cartridge.control",
        { uuid: g.id, name: c.name, action },
        {
          timeoutMs: ctx.cfg.cartridgeTimeoutMs,
        },
      )) as { output?: string } | null;
      if (res?.output?.trim()) messages.push({ severity: "info", text: res.output.trim() });
    }
  }
  return messages;
}

export async function applicationEvent(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
  event: AppEvent,
): Promise<WithMessages<ApplicationView>> {
  const { a, d } = await ownApp(ctx, p, ref);
  if (a.state === "creating" || a.state === "deleting")
    throw new BrokerConflictError(
      `application ${a.name} is being ${a.state === "creating" ? "created" : "deleted"}`,
      1,
    );
  // force-stop is stop on our nodes (bin/control stop ends every process of the cartridge)
  const action = event === "force-stop" ? "stop" : event;
  const messages = await controlAll(ctx, a, action, action === "stop" ? "reverse" : "forward");
  let state = a.state;
  if (action === "stop") state = "stopped";
  if (action === "start" || action === "restart") state = "started";
  if (state !== a.state) await applications.setApplicationState(ctx.db, a.id, state);
  return { value: await appView(ctx, { ...a, state }, d), messages };
}

export async function addCartridge(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
  name: string,
): Promise<WithMessages<AppCartridgeView>> {
  const { a, d } = await ownApp(ctx, p, ref);
  const cat = await catalogueEntries(ctx);
  const c = cat.find((x) => x.name === name);
  if (!c)
    throw new BrokerValidationError(
      "name",
      `no cartridge ${name} on any node; available: ${cat.map((x) => x.name).join(", ")}`,
      ORIGIN_CODE.INVALID_CARTRIDGE,
    );
  if (c.type === "standalone")
    throw new BrokerValidationError(
      "name",
      `${name} is a web cartridge; an application has exactly one`,
      ORIGIN_CODE.INVALID_CARTRIDGE,
    );
  const have = await applications.listCartridges(ctx.db, a.id);
  if (have.some((x) => x.name === c.cartridge))
    throw new BrokerConflictError(`${a.name} already has ${name}`, ORIGIN_CODE.INVALID_CARTRIDGE, "name");
  await applications.addCartridge(ctx.db, {
    appId: a.id,
    name: c.cartridge,
    version: c.version,
    type: "addon",
    status: "installing",
  });
  const messages: Message[] = [];
  try {
    for (const g of await gears.listGears(ctx.db, a.id)) {
      const res = (await ctx.bus.call(
        g.node,
        "cartridge.install",
        { uuid: g.id, name: c.cartridge, version: c.version },
        {
          timeoutMs: ctx.cfg.cartridgeTimeoutMs,
        },
      )) as { messages?: { output: string }[] } | null;
      for (const m of res?.messages ?? [])
        if (m.output.trim()) messages.push({ severity: "result", text: m.output.trim() });
    }
  } catch (err) {
    // the node undoes a failed install itself; the record goes too
    await applications.removeCartridge(ctx.db, a.id, c.cartridge).catch(() => undefined);
    throw err;
  }
  await applications.setCartridgeStatus(ctx.db, a.id, c.cartridge, "started");
  const view = await appView(ctx, a, d);
  return { value: view.cartridges.find((x) => x.name === name)!, messages };
}

export async function removeCartridge(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
  name: string,
): Promise<WithMessages<ApplicationView>> {
  const { a, d } = await ownApp(ctx, p, ref);
  const have = await applications.listCartridges(ctx.db, a.id);
  const c = have.find((x) => `${x.name}-${x.version}` === name);
  if (!c) throw new BrokerNotFoundError(`Cartridge '${name}' not found in application ${a.name}`);
  if (c.type === "web")
    throw new BrokerValidationError(
      "name",
      `${name} is the web cartridge: delete the application instead`,
      ORIGIN_CODE.INVALID_CARTRIDGE,
    );
  for (const g of await gears.listGears(ctx.db, a.id))
    await ctx.bus.call(
      g.node,
      "cartridge.remove",
      { uuid: g.id, name: c.name },
      { timeoutMs: ctx.cfg.cartridgeTimeoutMs },
    );
  await applications.removeCartridge(ctx.db, a.id, c.name);
  return { value: await appView(ctx, a, d), messages: [] };
}

export async function cartridgeEvent(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
  name: string,
  event: CartridgeEvent,
): Promise<WithMessages<AppCartridgeView>> {
  const { a, d } = await ownApp(ctx, p, ref);
  const c = (await applications.listCartridges(ctx.db, a.id)).find((x) => `${x.name}-${x.version}` === name);
  if (!c) throw new BrokerNotFoundError(`Cartridge '${name}' not found in application ${a.name}`);
  const messages: Message[] = [];
  for (const g of await gears.listGears(ctx.db, a.id)) {
    const res = (await ctx.bus.call(
      g.node,
      "cartridge.control",
      { uuid: g.id, name: c.name, action: event },
      {
        timeoutMs: ctx.cfg.cartridgeTimeoutMs,
      },
    )) as { output?: string } | null;
    if (res?.output?.trim()) messages.push({ severity: "info", text: res.output.trim() });
  }
  if (event !== "reload")
    await applications.setCartridgeStatus(ctx.db, a.id, c.name, event === "stop" ? "stopped" : "started");
  const view = await appView(ctx, a, d);
  return { value: view.cartridges.find((x) => x.name === name)!, messages };
}

export async function listEnv(ctx: ServiceContext, p: Principal, ref: AppRef): Promise<EnvVar[]> {
  const { a } = await ownApp(ctx, p, ref);
  return (await applications.listEnvVars(ctx.db, a.id)).map((v) => ({ name: v.name, value: v.value }));
}

export async function setEnv(
  ctx: ServiceContext,
  p: Principal,
  ref: AppRef,
  changes: readonly EnvChange[],
): Promise<EnvVar[]> {
  const { a } = await ownApp(ctx, p, ref);
  const set = changes.filter((c) => c.value !== undefined).map((c) => ({ name: c.name, value: c.value! }));
  const unset = changes.filter((c) => c.value === undefined).map((c) => c.name);
  await ctx.db.tx(async (q) => {
    await applications.setEnvVars(q, a.id, set);
    if (unset.length) await applications.unsetEnvVars(q, a.id, unset);
  });
  const vars = await applications.listEnvVars(ctx.db, a.id);
  const env: Record<string, string> = {};
  for (const v of vars) env[v.name] = v.value;
  // the node replaces the gear's user variables with exactly these
  for (const g of await gears.listGears(ctx.db, a.id))
    await ctx.bus.call(g.node, "gear.update", { uuid: g.id, env }, { timeoutMs: ctx.cfg.nodeTimeoutMs });
  return vars.map((v) => ({ name: v.name, value: v.value }));
}
