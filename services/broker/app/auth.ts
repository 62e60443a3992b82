// Who is calling (a login and password, or an authorization token) and whether the service can answer.

import { authorizations, users } from "../store";
import type { ServiceContext } from "./context";
import type { HealthReport, Principal } from "./types";

export async function authenticateBasic(
  ctx: ServiceContext,
  login: string,
  password: string,
): Promise<Principal | null> {
  const u = await users.verifyLogin(ctx.db, login, password);
  return u ? { userId: u.id, login: u.login, role: u.role } : null;
}

export async function authenticateToken(ctx: ServiceContext, token: string): Promise<Principal | null> {
  const found = await authorizations.findByToken(ctx.db, token);
  if (!found) return null;
  const { user, authorization } = found;
  return {
    userId: user.id,
    login: user.login,
    role: user.role,
    authorizationId: authorization.id,
    scopes: authorization.scopes,
  };
}

export async function health(ctx: ServiceContext): Promise<HealthReport> {
  try {
    await ctx.db.query("SELECT 1");
    return { ok: true, checks: { database: { ok: true, detail: "answers" } } };
  } catch (err) {
    return { ok: false, checks: { database: { ok: false, detail: (err as Error).message } } };
  }
}
