// The caller's own account: the user record and gear count, SSH keys (pushed to every gear of the user) and
// authorization tokens.

import { NotFoundError } from "../../../common/errors";
import type { User } from "../model/types";
import { authorizations, sshKeys, users } from "../store";
import type { ServiceContext } from "./context";
import { BrokerConflictError, BrokerNotFoundError, KeyNotFoundError, ORIGIN_CODE } from "./errors";
import type { AuthorizationView, KeyView, Principal, UserView } from "./types";

export async function userRow(ctx: ServiceContext, p: Principal): Promise<User> {
  const u = await users.getUser(ctx.db, p.userId);
  if (!u) throw new NotFoundError(`user ${p.login} not found`);
  return u;
}

export async function consumedGears(ctx: ServiceContext, userId: string): Promise<number> {
  const { rows } = await ctx.db.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM gears g JOIN applications a ON a.id = g.app_id
       JOIN domains d ON d.id = a.domain_id WHERE d.owner_id = $1`,
    [userId],
  );
  return rows[0].n;
}

export async function userView(ctx: ServiceContext, u: User): Promise<UserView> {
  return { ...u, consumedGears: await consumedGears(ctx, u.id) };
}

export async function getUser(ctx: ServiceContext, p: Principal): Promise<UserView> {
  return userView(ctx, await userRow(ctx, p));
}

export async function listKeys(ctx: ServiceContext, p: Principal): Promise<KeyView[]> {
  return (await sshKeys.listSshKeys(ctx.db, p.userId)).map((k) => ({
    name: k.name,
    type: k.type,
    content: k.content,
  }));
}

/** The gears of every application of the user, with their node. */
async function userGears(ctx: ServiceContext, userId: string): Promise<{ id: string; node: string }[]> {
  const { rows } = await ctx.db.query<{ id: string; node: string }>(
    `SELECT g.id, g.node FROM gears g JOIN applications a ON a.id = g.app_id
       JOIN domains d ON d.id = a.domain_id WHERE d.owner_id = $1 ORDER BY g.id`,
    [userId],
  );
  return rows;
}

/** Puts a key on (or takes it off) every gear of the user; all are tried, the first failure is thrown. */
async function pushKey(
  ctx: ServiceContext,
  userId: string,
  key: KeyView,
  op: "add" | "remove",
): Promise<void> {
  let first: unknown = null;
  for (const g of await userGears(ctx, userId)) {
    try {
      if (op === "add")
        await ctx.bus.call(
          g.node,
          "sshkey.add",
          { uuid: g.id, key: `${key.type} ${key.content}`, name: key.name },
          {
            timeoutMs: ctx.cfg.nodeTimeoutMs,
          },
        );
      else
        await ctx.bus.call(
          g.node,
          "sshkey.remove",
          { uuid: g.id, name: key.name },
          { timeoutMs: ctx.cfg.nodeTimeoutMs },
        );
    } catch (err) {
      ctx.log.warn(
        { gear: g.id, node: g.node, key: key.name, error: (err as Error).message },
        `sshkey ${op} failed`,
      );
      first ??= err;
    }
  }
  if (first) throw first;
}

export async function addKey(ctx: ServiceContext, p: Principal, key: KeyView): Promise<KeyView> {
  const existing = await sshKeys.getSshKey(ctx.db, p.userId, key.name);
  if (existing && (existing.content !== key.content || existing.type !== key.type))
    throw new BrokerConflictError(
      `SSH key with name ${key.name} already exists`,
      ORIGIN_CODE.KEY_NAME_TAKEN,
      "name",
    );
  const same = (await sshKeys.listSshKeys(ctx.db, p.userId)).find(
    (k) => k.content === key.content && k.name !== key.name,
  );
  if (same)
    throw new BrokerConflictError(
      `this key is already added as ${same.name}`,
      ORIGIN_CODE.KEY_CONTENT_TAKEN,
      "content",
    );
  if (!existing) await sshKeys.addSshKey(ctx.db, { userId: p.userId, ...key });
  await pushKey(ctx, p.userId, key, "add");
  return key;
}

export async function getKey(ctx: ServiceContext, p: Principal, name: string): Promise<KeyView> {
  const k = await sshKeys.getSshKey(ctx.db, p.userId, name).catch(() => null);
  if (!k) throw new KeyNotFoundError(name);
  return { name: k.name, type: k.type, content: k.content };
}

export async function updateKey(
  ctx: ServiceContext,
  p: Principal,
  name: string,
  key: { type: string; content: string },
): Promise<KeyView> {
  await pushKey(ctx, p.userId, await getKey(ctx, p, name), "remove");
  const k = await sshKeys.updateSshKey(ctx.db, p.userId, name, key);
  const view = { name: k.name, type: k.type, content: k.content };
  await pushKey(ctx, p.userId, view, "add");
  return view;
}

export async function removeKey(ctx: ServiceContext, p: Principal, name: string): Promise<void> {
  const k = await getKey(ctx, p, name);
  await pushKey(ctx, p.userId, k, "remove");
  await sshKeys.removeSshKey(ctx.db, p.userId, name);
}

function authView(a: {
  id: string;
  note: string;
  scopes: readonly string[];
  createdAt: Date;
  expiresAt: Date;
}): AuthorizationView {
  return {
    id: a.id,
    note: a.note,
    scopes: a.scopes,
    createdAt: a.createdAt,
    expiresIn: Math.round((a.expiresAt.getTime() - a.createdAt.getTime()) / 1000),
  };
}

export async function listAuthorizations(ctx: ServiceContext, p: Principal) {
  return (await authorizations.listAuthorizations(ctx.db, p.userId)).map((a) => authView(a));
}

export async function addAuthorization(
  ctx: ServiceContext,
  p: Principal,
  req: { scope: string; note: string; expiresIn?: number },
) {
  const { authorization, token } = await authorizations.createAuthorization(ctx.db, {
    userId: p.userId,
    scopes: [req.scope],
    note: req.note,
    ...(req.expiresIn !== undefined ? { expiresIn: req.expiresIn } : {}),
  });
  return { ...authView(authorization), token };
}

export async function getAuthorization(ctx: ServiceContext, p: Principal, id: string) {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new BrokerNotFoundError(`authorization ${id} not found`);
  return authView(await authorizations.getAuthorization(ctx.db, p.userId, id));
}

export async function removeAuthorization(ctx: ServiceContext, p: Principal, id: string) {
  if (!/^[0-9a-f]{32}$/.test(id) || !(await authorizations.deleteAuthorization(ctx.db, p.userId, id)))
    throw new BrokerNotFoundError(`authorization ${id} not found`);
}

export async function removeAllAuthorizations(ctx: ServiceContext, p: Principal) {
  await authorizations.deleteAllAuthorizations(ctx.db, p.userId);
}
