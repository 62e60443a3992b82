// The admin API (role admin only): districts and their nodes, the nodes' facts and gears, the gear records,
// users.

import { ValidationError } from "../../../common/errors";
import type { GearProfile } from "../../../common/profiles";
import type { NodeRecord } from "../model/types";
import { applications, districts, nodes, users } from "../store";
import { userView } from "./account";
import { fqdn, type ServiceContext } from "./context";
import { AdminOnlyError, BrokerConflictError, BrokerNotFoundError } from "./errors";
import type { DistrictView, GearRecordView, NewDistrict, NewUser, NodeView, Principal } from "./types";

function admin(p: Principal): void {
  if (p.role !== "admin") throw new AdminOnlyError();
}

async function districtView(ctx: ServiceContext, id: string): Promise<DistrictView> {
  const d = await districts.getDistrict(ctx.db, id);
  if (!d) throw new BrokerNotFoundError(`district ${id} not found`);
  const members = await districts.listDistrictNodes(ctx.db, d.id);
  return {
    name: d.name,
    uuid: d.id,
    gearProfile: d.profile,
    firstUid: d.firstUid,
    maxUid: d.firstUid + d.uidCount - 1,
    maxCapacity: d.uidCount,
    availableCapacity: d.availableUids,
    nodes: members.map((m) => ({ name: m.identity, active: m.active })),
    createdAt: d.createdAt,
  };
}

async function districtByName(ctx: ServiceContext, name: string) {
  const d = /^[\w.-]{1,64}$/.test(name) ? await districts.getDistrictByName(ctx.db, name) : null;
  if (!d) throw new BrokerNotFoundError(`district ${name} not found`);
  return d;
}

export async function listDistricts(ctx: ServiceContext, p: Principal) {
  admin(p);
  return Promise.all((await districts.listDistricts(ctx.db)).map((d) => districtView(ctx, d.id)));
}

export async function createDistrict(ctx: ServiceContext, p: Principal, req: NewDistrict) {
  admin(p);
  try {
    const d = await ctx.db.tx((q) =>
      districts.createDistrict(q, {
        name: req.name,
        profile: req.gearProfile as GearProfile,
        ...(req.firstUid !== undefined ? { firstUid: req.firstUid } : {}),
        ...(req.capacity !== undefined ? { uidCount: req.capacity } : {}),
      }),
    );
    return districtView(ctx, d.id);
  } catch (err) {
    if ((err as { kind?: string }).kind === "conflict")
      throw new BrokerConflictError(`district ${req.name} exists`, 1, "name");
    throw err;
  }
}

export async function getDistrict(ctx: ServiceContext, p: Principal, name: string) {
  admin(p);
  return districtView(ctx, (await districtByName(ctx, name)).id);
}

/** Deletes a district with no nodes and no reserved UIDs (remove its nodes first). */
export async function deleteDistrict(ctx: ServiceContext, p: Principal, name: string): Promise<void> {
  admin(p);
  const d = await districtByName(ctx, name);
  try {
    await ctx.db.tx((q) => districts.deleteDistrict(q, d.id));
  } catch (err) {
    if ((err as { kind?: string }).kind === "conflict")
      throw new BrokerConflictError(`district ${name}: ${(err as Error).message}`, 1, "name");
    throw err;
  }
}

async function memberOf(ctx: ServiceContext, districtId: string, node: string) {
  const m = (await districts.listDistrictNodes(ctx.db, districtId)).find((x) => x.identity === node);
  if (!m) throw new BrokerNotFoundError(`node ${node} is not in this district`);
  return m;
}

export async function addDistrictNode(ctx: ServiceContext, p: Principal, district: string, node: string) {
  admin(p);
  const d = await districtByName(ctx, district);
  if (!(await nodes.getNode(ctx.db, node)))
    throw new ValidationError("node", `node ${node} has never reported facts (is its agent running?)`);
  await ctx.db.tx((q) => districts.addDistrictNode(q, d.id, node));
  return districtView(ctx, d.id);
}

export async function removeDistrictNode(ctx: ServiceContext, p: Principal, district: string, node: string) {
  admin(p);
  const d = await districtByName(ctx, district);
  await memberOf(ctx, d.id, node);
  await districts.removeDistrictNode(ctx.db, node);
  return districtView(ctx, d.id);
}

export async function setDistrictNodeActive(
  ctx: ServiceContext,
  p: Principal,
  district: string,
  node: string,
  active: boolean,
) {
  admin(p);
  const d = await districtByName(ctx, district);
  await memberOf(ctx, d.id, node);
  await districts.setDistrictNodeActive(ctx.db, node, active);
  return districtView(ctx, d.id);
}

export async function changeDistrictCapacity(
  ctx: ServiceContext,
  p: Principal,
  district: string,
  change: number,
) {
  admin(p);
  const d = await districtByName(ctx, district);
  await ctx.db.tx((q) =>
    change > 0
      ? districts.addDistrictCapacity(q, d.id, change)
      : districts.removeDistrictCapacity(q, d.id, -change),
  );
  return districtView(ctx, d.id);
}

async function nodeView(ctx: ServiceContext, rec: NodeRecord): Promise<NodeView> {
  const member = (await districts.listDistrictNodes(ctx.db)).find((m) => m.identity === rec.identity);
  const d = member ? await districts.getDistrict(ctx.db, member.districtId) : null;
  const live = ctx.bus.nodeStatus(rec.identity);
  const lastSeen = rec.lastSeen;
  const recent = lastSeen !== null && Date.now() - lastSeen.getTime() <= ctx.cfg.silenceMs;
  const f = rec.facts;
  return {
    name: rec.identity,
    district: d?.name ?? null,
    active: member ? member.active : null,
    responsive: live.status === "responsive" || recent,
    lastSeen,
    profile: f?.profile ?? null,
    activeGears: f?.activeGears ?? null,
    maxActiveGears: f?.maxActiveGears ?? null,
    publicHostname: f?.publicHostname ?? null,
    cartridges: (f?.cartridges ?? []).map((c) => `${c.name}-${c.version}`),
  };
}

export async function listNodes(ctx: ServiceContext, p: Principal) {
  admin(p);
  return Promise.all((await nodes.listNodes(ctx.db)).map((n) => nodeView(ctx, n)));
}

export async function getNode(ctx: ServiceContext, p: Principal, name: string) {
  admin(p);
  const rec = /^[a-z0-9][a-z0-9._-]{0,252}$/.test(name) ? await nodes.getNode(ctx.db, name) : null;
  if (!rec) throw new BrokerNotFoundError(`node ${name} not found`);
  return nodeView(ctx, rec);
}

export async function nodeGears(ctx: ServiceContext, p: Principal, name: string) {
  await getNode(ctx, p, name);
  const list = (await ctx.bus.call(name, "gear.list", {}, { timeoutMs: ctx.cfg.nodeTimeoutMs })) as unknown[];
  const frontends: unknown[] = [];
  for (const g of list as { uuid?: string }[]) {
    if (!g.uuid) continue;
    const f = await ctx.bus.call(
      name,
      "frontend.read",
      { uuid: g.uuid },
      { timeoutMs: ctx.cfg.nodeTimeoutMs },
    );
    if (f) frontends.push(f);
  }
  return { gears: list, frontends };
}

export async function listGearRecords(ctx: ServiceContext, p: Principal): Promise<GearRecordView[]> {
  admin(p);
  const { rows } = await ctx.db.query<{
    id: string;
    uid: number;
    node: string;
    district: string;
    app: string;
    app_id: string;
    namespace: string;
    state: string;
  }>(
    `SELECT g.id, g.uid, g.node, di.name AS district, a.name AS app, a.id AS app_id, d.namespace, a.state
       FROM gears g JOIN applications a ON a.id = g.app_id JOIN domains d ON d.id = a.domain_id
       JOIN districts di ON di.id = g.district_id ORDER BY g.id`,
  );
  const out: GearRecordView[] = [];
  for (const r of rows) {
    const carts = await applications.listCartridges(ctx.db, r.app_id);
    out.push({
      uuid: r.id,
      uid: r.uid,
      node: r.node,
      district: r.district,
      application: r.app,
      applicationId: r.app_id,
      domain: r.namespace,
      fqdn: fqdn(ctx, r.app, r.namespace),
      cartridges: carts.map((c) => `${c.name}-${c.version}`),
      state: r.state,
    });
  }
  return out;
}

export async function listUsers(ctx: ServiceContext, p: Principal) {
  admin(p);
  return Promise.all((await users.listUsers(ctx.db)).map((u) => userView(ctx, u)));
}

export async function createUser(ctx: ServiceContext, p: Principal, req: NewUser) {
  admin(p);
  try {
    const u = await users.createUser(ctx.db, req);
    return userView(ctx, u);
  } catch (err) {
    if ((err as { kind?: string }).kind === "conflict")
      throw new BrokerConflictError(`user ${req.login} exists`, 1, "login");
    throw err;
  }
}
