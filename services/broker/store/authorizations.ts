// Authorizations (bearer tokens, origin-server's `authorizations`): the token is returned once at creation
// and only its sha256 is stored; a lookup hashes the presented token and checks the expiry.

import { NotFoundError, ValidationError } from "../../../common/errors";
import type { Authorization, User } from "../model/types";
import { validateId, validateInt, validateScope, validateString } from "../model/validate";
import type { Queryable } from "./db";
import { newId, newToken, tokenHash } from "./secrets";

interface Row {
  id: string;
  user_id: string;
  scopes: string[];
  note: string;
  created_at: Date;
  expires_at: Date;
}

const COLUMNS = "id, user_id, scopes, note, created_at, expires_at";
/** origin-server's AUTH_SCOPE_TIMEOUTS default `*=1.months|6.months`: default and largest lifetime */
export const DEFAULT_TOKEN_SECONDS = 30 * 24 * 3600;
export const MAX_TOKEN_SECONDS = 6 * 30 * 24 * 3600;

function toAuthorization(r: Row): Authorization {
  return {
    id: r.id,
    userId: r.user_id,
    scopes: r.scopes,
    note: r.note,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

export interface NewAuthorization {
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly note?: string;
  /** lifetime in seconds (default 30 days, at most 180) */
  readonly expiresIn?: number;
}

/** Creates a token; `token` is the only time its plain text exists outside the caller. */
export async function createAuthorization(
  q: Queryable,
  a: NewAuthorization,
): Promise<{ authorization: Authorization; token: string }> {
  const userId = validateId("user_id", a.userId);
  if (!Array.isArray(a.scopes) || a.scopes.length === 0) {
    throw new ValidationError("scopes", "must list at least one scope");
  }
  const scopes = a.scopes.map((s, i) => validateScope(s, `scopes[${i}]`));
  const note = validateString("note", a.note ?? "", 512);
  const seconds = validateInt("expires_in", a.expiresIn ?? DEFAULT_TOKEN_SECONDS, 1, MAX_TOKEN_SECONDS);
  const token = newToken();
  const { rows } = await q.query<Row>(
    `INSERT INTO authorizations (id, user_id, token_hash, scopes, note, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING ${COLUMNS}`,
    [newId(), userId, tokenHash(token), scopes, note, seconds],
  );
  return { authorization: toAuthorization(rows[0]), token };
}

/** The authorization and user a presented token belongs to, or null (unknown or expired). */
export async function findByToken(
  q: Queryable,
  token: string,
): Promise<{ authorization: Authorization; user: User } | null> {
  if (typeof token !== "string" || token.length === 0 || token.length > 512) return null;
  const { rows } = await q.query<
    Row & { login: string; role: User["role"]; max_gears: number; max_domains: number; user_created_at: Date }
  >(
    `SELECT a.id, a.user_id, a.scopes, a.note, a.created_at, a.expires_at,
            u.login, u.role, u.max_gears, u.max_domains, u.created_at AS user_created_at
       FROM authorizations a JOIN users u ON u.id = a.user_id
      WHERE a.token_hash = $1 AND a.expires_at > now()`,
    [tokenHash(token)],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    authorization: toAuthorization(r),
    user: {
      id: r.user_id,
      login: r.login,
      role: r.role,
      maxGears: r.max_gears,
      maxDomains: r.max_domains,
      createdAt: r.user_created_at,
    },
  };
}

export async function listAuthorizations(q: Queryable, userId: string): Promise<Authorization[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM authorizations WHERE user_id = $1 ORDER BY created_at, id`,
    [validateId("user_id", userId)],
  );
  return rows.map(toAuthorization);
}

export async function getAuthorization(q: Queryable, userId: string, id: string): Promise<Authorization> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM authorizations WHERE user_id = $1 AND id = $2`,
    [validateId("user_id", userId), validateId("id", id)],
  );
  if (!rows[0]) throw new NotFoundError(`authorization ${id} not found`);
  return toAuthorization(rows[0]);
}

/** Revokes one of the user's tokens; false if it was not there. */
export async function deleteAuthorization(q: Queryable, userId: string, id: string): Promise<boolean> {
  const r = await q.query(`DELETE FROM authorizations WHERE user_id = $1 AND id = $2`, [
    validateId("user_id", userId),
    validateId("id", id),
  ]);
  return (r.rowCount ?? 0) > 0;
}

/** Revokes every token of the user; resolves to how many. */
export async function deleteAllAuthorizations(q: Queryable, userId: string): Promise<number> {
  const r = await q.query(`DELETE FROM authorizations WHERE user_id = $1`, [validateId("user_id", userId)]);
  return r.rowCount ?? 0;
}

/** Removes expired tokens; resolves to how many. */
export async function purgeExpiredAuthorizations(q: Queryable): Promise<number> {
  const r = await q.query(`DELETE FROM authorizations WHERE expires_at <= now()`);
  return r.rowCount ?? 0;
}
