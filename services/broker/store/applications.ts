// Applications, their cartridges and their environment variables. An application is a row of its domain;
// its gears are in gears.ts.

import { ConflictError, NotFoundError } from "../../../common/errors";
import type { GearProfile } from "../../../common/profiles";
import type { AppCartridge, AppState, Application, CartridgeType, EnvVar } from "../model/types";
import { APP_STATES, CARTRIDGE_TYPES } from "../model/types";
import {
  validateAppName,
  validateCartridgeName,
  validateCartridgeVersion,
  validateEnvName,
  validateId,
  validateOneOf,
  validateProfile,
  validateString,
} from "../model/validate";
import { constraintOf, type Queryable } from "./db";
import { newId } from "./secrets";

interface AppRow {
  id: string;
  name: string;
  domain_id: string;
  profile: GearProfile;
  state: AppState;
  created_at: Date;
}

const APP_COLUMNS = "id, name, domain_id, profile, state, created_at";

function toApp(r: AppRow): Application {
  return {
    id: r.id,
    name: r.name,
    domainId: r.domain_id,
    profile: r.profile,
    state: r.state,
    createdAt: r.created_at,
  };
}

export interface NewApplication {
  readonly name: string;
  readonly domainId: string;
  readonly profile: GearProfile;
  /** default "creating" */
  readonly state?: AppState;
  /** a chosen id (the application service makes it before the pending op that creates the gear) */
  readonly id?: string;
}

export async function createApplication(q: Queryable, a: NewApplication): Promise<Application> {
  const name = validateAppName(a.name);
  const domainId = validateId("domain_id", a.domainId);
  const profile = validateProfile(a.profile);
  const state = validateOneOf("state", a.state ?? "creating", APP_STATES);
  const id = a.id === undefined ? newId() : validateId("id", a.id);
  try {
    const { rows } = await q.query<AppRow>(
      `INSERT INTO applications (id, name, domain_id, profile, state) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${APP_COLUMNS}`,
      [id, name, domainId, profile, state],
    );
    return toApp(rows[0]);
  } catch (err) {
    const c = constraintOf(err);
    if (c === "applications_domain_name")
      throw new ConflictError(`application '${name}' exists in the domain`);
    if (c === "applications_domain_id_fkey") throw new NotFoundError(`domain ${domainId} not found`);
    if (c === "applications_pkey") throw new ConflictError(`application id ${id} exists`);
    throw err;
  }
}

export async function getApplication(q: Queryable, id: string): Promise<Application | null> {
  const { rows } = await q.query<AppRow>(`SELECT ${APP_COLUMNS} FROM applications WHERE id = $1`, [
    validateId("application_id", id),
  ]);
  return rows[0] ? toApp(rows[0]) : null;
}

/** The application of this name (any case) in the domain. */
export async function getApplicationByName(
  q: Queryable,
  domainId: string,
  name: string,
): Promise<Application | null> {
  const { rows } = await q.query<AppRow>(
    `SELECT ${APP_COLUMNS} FROM applications WHERE domain_id = $1 AND lower(name) = lower($2)`,
    [validateId("domain_id", domainId), validateAppName(name)],
  );
  return rows[0] ? toApp(rows[0]) : null;
}

export async function listApplications(q: Queryable, domainId: string): Promise<Application[]> {
  const { rows } = await q.query<AppRow>(
    `SELECT ${APP_COLUMNS} FROM applications WHERE domain_id = $1 ORDER BY name`,
    [validateId("domain_id", domainId)],
  );
  return rows.map(toApp);
}

/** Every application of the user's domains. */
export async function listApplicationsOfOwner(q: Queryable, ownerId: string): Promise<Application[]> {
  const { rows } = await q.query<AppRow>(
    `SELECT a.id, a.name, a.domain_id, a.profile, a.state, a.created_at
       FROM applications a JOIN domains d ON d.id = a.domain_id
      WHERE d.owner_id = $1 ORDER BY d.namespace, a.name`,
    [validateId("owner_id", ownerId)],
  );
  return rows.map(toApp);
}

export async function setApplicationState(q: Queryable, id: string, state: AppState): Promise<Application> {
  const { rows } = await q.query<AppRow>(
    `UPDATE applications SET state = $2 WHERE id = $1 RETURNING ${APP_COLUMNS}`,
    [validateId("application_id", id), validateOneOf("state", state, APP_STATES)],
  );
  if (!rows[0]) throw new NotFoundError(`application ${id} not found`);
  return toApp(rows[0]);
}

/** Deletes an application whose gears are gone (cartridges and env vars go with it); false if absent. */
export async function deleteApplication(q: Queryable, id: string): Promise<boolean> {
  try {
    const r = await q.query(`DELETE FROM applications WHERE id = $1`, [validateId("application_id", id)]);
    return (r.rowCount ?? 0) > 0;
  } catch (err) {
    if (constraintOf(err) === "gears_app_id_fkey") throw new ConflictError("the application still has gears");
    throw err;
  }
}

// ---- cartridges -------------------------------------------------------------------------------------------

interface CartRow {
  app_id: string;
  name: string;
  version: string;
  type: CartridgeType;
  status: string;
  created_at: Date;
}

const CART_COLUMNS = "app_id, name, version, type, status, created_at";

function toCart(r: CartRow): AppCartridge {
  return {
    appId: r.app_id,
    name: r.name,
    version: r.version,
    type: r.type,
    status: r.status,
    createdAt: r.created_at,
  };
}

export interface NewAppCartridge {
  readonly appId: string;
  readonly name: string;
  readonly version: string;
  readonly type: CartridgeType;
  readonly status?: string;
}

export async function addCartridge(q: Queryable, c: NewAppCartridge): Promise<AppCartridge> {
  const appId = validateId("application_id", c.appId);
  const name = validateCartridgeName(c.name);
  const version = validateCartridgeVersion(c.version);
  const type = validateOneOf("type", c.type, CARTRIDGE_TYPES);
  const status = validateString("status", c.status ?? "new", 64);
  try {
    const { rows } = await q.query<CartRow>(
      `INSERT INTO app_cartridges (app_id, name, version, type, status) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${CART_COLUMNS}`,
      [appId, name, version, type, status],
    );
    return toCart(rows[0]);
  } catch (err) {
    const k = constraintOf(err);
    if (k === "app_cartridges_pkey")
      throw new ConflictError(`cartridge '${name}' is already in the application`);
    if (k === "app_cartridges_one_web")
      throw new ConflictError("the application already has a web cartridge");
    if (k === "app_cartridges_app_id_fkey") throw new NotFoundError(`application ${appId} not found`);
    throw err;
  }
}

export async function listCartridges(q: Queryable, appId: string): Promise<AppCartridge[]> {
  const { rows } = await q.query<CartRow>(
    `SELECT ${CART_COLUMNS} FROM app_cartridges WHERE app_id = $1 ORDER BY type DESC, name`,
    [validateId("application_id", appId)],
  );
  return rows.map(toCart);
}

export async function setCartridgeStatus(
  q: Queryable,
  appId: string,
  name: string,
  status: string,
): Promise<void> {
  const r = await q.query(`UPDATE app_cartridges SET status = $3 WHERE app_id = $1 AND name = $2`, [
    validateId("application_id", appId),
    validateCartridgeName(name),
    validateString("status", status, 64),
  ]);
  if (!r.rowCount) throw new NotFoundError(`cartridge '${name}' is not in application ${appId}`);
}

/** Removes a cartridge from the application; false if it was not there. */
export async function removeCartridge(q: Queryable, appId: string, name: string): Promise<boolean> {
  const r = await q.query(`DELETE FROM app_cartridges WHERE app_id = $1 AND name = $2`, [
    validateId("application_id", appId),
    validateCartridgeName(name),
  ]);
  return (r.rowCount ?? 0) > 0;
}

// ---- environment variables --------------------------------------------------------------------------------

const MAX_ENV_VALUE = 10 * 1024;

/** Sets variables (insert or replace), all or none. */
export async function setEnvVars(
  q: Queryable,
  appId: string,
  vars: readonly { name: string; value: string }[],
) {
  const id = validateId("application_id", appId);
  const checked = vars.map((v, i) => ({
    name: validateEnvName(v.name, `environment_variables[${i}].name`),
    value: validateString(`environment_variables[${i}].value`, v.value, MAX_ENV_VALUE),
  }));
  if (checked.length === 0) return;
  try {
    await q.query(
      `INSERT INTO env_vars (app_id, name, value)
       SELECT $1, n, v FROM unnest($2::text[], $3::text[]) AS t (n, v)
       ON CONFLICT (app_id, name) DO UPDATE SET value = excluded.value`,
      [id, checked.map((v) => v.name), checked.map((v) => v.value)],
    );
  } catch (err) {
    if (constraintOf(err) === "env_vars_app_id_fkey") throw new NotFoundError(`application ${id} not found`);
    throw err;
  }
}

export async function listEnvVars(q: Queryable, appId: string): Promise<EnvVar[]> {
  const { rows } = await q.query<{ app_id: string; name: string; value: string }>(
    `SELECT app_id, name, value FROM env_vars WHERE app_id = $1 ORDER BY name`,
    [validateId("application_id", appId)],
  );
  return rows.map((r) => ({ appId: r.app_id, name: r.name, value: r.value }));
}

/** Removes variables; resolves to the names that were there. */
export async function unsetEnvVars(q: Queryable, appId: string, names: readonly string[]): Promise<string[]> {
  const id = validateId("application_id", appId);
  const checked = names.map((n, i) => validateEnvName(n, `names[${i}]`));
  const { rows } = await q.query<{ name: string }>(
    `DELETE FROM env_vars WHERE app_id = $1 AND name = ANY($2::text[]) RETURNING name`,
    [id, checked],
  );
  return rows.map((r) => r.name).sort();
}
