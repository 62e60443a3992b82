// Users (origin-server's cloud_users): login, scrypt password hash, role, gear and domain limits.

import { ConflictError, NotFoundError } from "../../../common/errors";
import type { Role, User } from "../model/types";
import { validateId, validateInt, validateLogin, validateRole, validateString } from "../model/validate";
import { constraintOf, type Queryable } from "./db";
import { hashPassword, newId, verifyPassword } from "./secrets";

/** origin-server's broker.conf DEFAULT_MAX_GEARS and DEFAULT_MAX_DOMAINS */
export const DEFAULT_MAX_GEARS = 100;
export const DEFAULT_MAX_DOMAINS = 10;
const MAX_PASSWORD = 1024;

interface Row {
  id: string;
  login: string;
  role: Role;
  max_gears: number;
  max_domains: number;
  created_at: Date;
}

const COLUMNS = "id, login, role, max_gears, max_domains, created_at";

function toUser(r: Row): User {
  return {
    id: r.id,
    login: r.login,
    role: r.role,
    maxGears: r.max_gears,
    maxDomains: r.max_domains,
    createdAt: r.created_at,
  };
}

export interface NewUser {
  readonly login: string;
  /** omitted: the user cannot log in with a password (tokens only) */
  readonly password?: string;
  readonly role?: Role;
  readonly maxGears?: number;
  readonly maxDomains?: number;
}

export async function createUser(q: Queryable, u: NewUser): Promise<User> {
  const login = validateLogin(u.login);
  const role = validateRole(u.role ?? "user");
  const maxGears = validateInt("max_gears", u.maxGears ?? DEFAULT_MAX_GEARS, 0, 100_000);
  const maxDomains = validateInt("max_domains", u.maxDomains ?? DEFAULT_MAX_DOMAINS, 0, 10_000);
  const hash =
    u.password === undefined
      ? null
      : await hashPassword(validateString("password", u.password, MAX_PASSWORD));
  try {
    const { rows } = await q.query<Row>(
      `INSERT INTO users (id, login, password_hash, role, max_gears, max_domains)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [newId(), login, hash, role, maxGears, maxDomains],
    );
    return toUser(rows[0]);
  } catch (err) {
    if (constraintOf(err) === "users_login_key") throw new ConflictError(`login '${login}' is taken`);
    throw err;
  }
}

export async function getUser(q: Queryable, id: string): Promise<User | null> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [
    validateId("user_id", id),
  ]);
  return rows[0] ? toUser(rows[0]) : null;
}

export async function getUserByLogin(q: Queryable, login: string): Promise<User | null> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM users WHERE login = $1`, [
    validateLogin(login),
  ]);
  return rows[0] ? toUser(rows[0]) : null;
}

/**
 * The user whose login and password these are, or null (unknown login, no password set, wrong password).
 * An unknown login costs a hash too, so timing does not tell which logins exist.
 */
export async function verifyLogin(q: Queryable, login: string, password: string): Promise<User | null> {
  if (typeof login !== "string" || typeof password !== "string" || password.length > MAX_PASSWORD)
    return null;
  const { rows } = await q.query<Row & { password_hash: string | null }>(
    `SELECT ${COLUMNS}, password_hash FROM users WHERE login = $1`,
    [login],
  );
  const row = rows[0];
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  return row && row.password_hash && ok ? toUser(row) : null;
}

// a valid hash of no one's password, so unknown logins take as long as known ones
const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

export async function listUsers(q: Queryable): Promise<User[]> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM users ORDER BY login`);
  return rows.map(toUser);
}

export interface UserChanges {
  readonly role?: Role;
  readonly maxGears?: number;
  readonly maxDomains?: number;
  /** null: remove the password (tokens only) */
  readonly password?: string | null;
}

export async function updateUser(q: Queryable, id: string, c: UserChanges): Promise<User> {
  validateId("user_id", id);
  const sets: string[] = [];
  const values: unknown[] = [id];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (c.role !== undefined) set("role", validateRole(c.role));
  if (c.maxGears !== undefined) set("max_gears", validateInt("max_gears", c.maxGears, 0, 100_000));
  if (c.maxDomains !== undefined) set("max_domains", validateInt("max_domains", c.maxDomains, 0, 10_000));
  if (c.password !== undefined) {
    set(
      "password_hash",
      c.password === null ? null : await hashPassword(validateString("password", c.password, MAX_PASSWORD)),
    );
  }
  if (sets.length === 0) {
    const u = await getUser(q, id);
    if (!u) throw new NotFoundError(`user ${id} not found`);
    return u;
  }
  const { rows } = await q.query<Row>(
    `UPDATE users SET ${sets.join(", ")} WHERE id = $1 RETURNING ${COLUMNS}`,
    values,
  );
  if (!rows[0]) throw new NotFoundError(`user ${id} not found`);
  return toUser(rows[0]);
}

/** Deletes a user with no domains left (their keys and tokens go with them); false if there was none. */
export async function deleteUser(q: Queryable, id: string): Promise<boolean> {
  try {
    const r = await q.query(`DELETE FROM users WHERE id = $1`, [validateId("user_id", id)]);
    return (r.rowCount ?? 0) > 0;
  } catch (err) {
    if (constraintOf(err) === "domains_owner_id_fkey")
      throw new ConflictError(`user ${id} still owns domains`);
    throw err;
  }
}
