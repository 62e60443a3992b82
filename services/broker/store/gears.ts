// Gears: an application's gear on a node, with the UID its district reserved for it. The gear row refers
// to its reservation (a foreign key), so a UID cannot be released while a gear holds it.

import { ConflictError, NotFoundError } from "../../../common/errors";
import type { Gear } from "../model/types";
import { validateId, validateInt, validateNodeIdentity } from "../model/validate";
import { constraintOf, type Queryable } from "./db";
import { releaseUid } from "./districts";

interface Row {
  id: string;
  app_id: string;
  district_id: string;
  uid: number;
  node: string;
  created_at: Date;
}

const COLUMNS = "g.id, g.app_id, g.district_id, g.uid, g.node, g.created_at";

function toGear(r: Row): Gear {
  return {
    id: r.id,
    appId: r.app_id,
    districtId: r.district_id,
    uid: r.uid,
    node: r.node,
    createdAt: r.created_at,
  };
}

export interface NewGear {
  /** the gear's UUID (also the holder its UID was reserved for) */
  readonly id: string;
  readonly appId: string;
  readonly districtId: string;
  readonly uid: number;
  readonly node: string;
}

/**
 * Records a gear on its reserved UID, refusing past the owner's max_gears. Idempotent: the same gear again
 * returns the row there. Run it inside Db.tx (the owner's row is locked for the limit).
 */
export async function createGear(q: Queryable, g: NewGear): Promise<Gear> {
  const id = validateId("gear_id", g.id);
  const appId = validateId("application_id", g.appId);
  const districtId = validateId("district_id", g.districtId);
  const uid = validateInt("uid", g.uid, 0, 2 ** 31 - 1);
  const node = validateNodeIdentity(g.node);
  const existing = await getGear(q, id);
  if (existing) {
    if (
      existing.appId !== appId ||
      existing.uid !== uid ||
      existing.node !== node ||
      existing.districtId !== districtId
    ) {
      throw new ConflictError(`gear ${id} exists with other values`);
    }
    return existing;
  }
  // lock the owner's row, then count in a statement of its own (a fresh READ COMMITTED snapshot, after the wait)
  const { rows: owner } = await q.query<{ id: string; max_gears: number }>(
    `SELECT u.id, u.max_gears FROM applications a JOIN domains d ON d.id = a.domain_id
       JOIN users u ON u.id = d.owner_id WHERE a.id = $1 FOR UPDATE OF u`,
    [appId],
  );
  if (!owner[0]) throw new NotFoundError(`application ${appId} not found`);
  const { rows: count } = await q.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM gears g JOIN applications a ON a.id = g.app_id
       JOIN domains d ON d.id = a.domain_id WHERE d.owner_id = $1`,
    [owner[0].id],
  );
  if (count[0].n >= owner[0].max_gears) {
    throw new ConflictError(`the owner already has ${count[0].n} gears (max_gears ${owner[0].max_gears})`);
  }
  const { rows: held } = await q.query<{ holder: string }>(
    `SELECT holder FROM uid_reservations WHERE district_id = $1 AND uid = $2`,
    [districtId, uid],
  );
  if (!held[0]) throw new ConflictError(`uid ${uid} is not reserved in district ${districtId}`);
  if (held[0].holder !== id)
    throw new ConflictError(`uid ${uid} is reserved for ${held[0].holder}, not gear ${id}`);
  try {
    const { rows } = await q.query<Row>(
      `INSERT INTO gears AS g (id, app_id, district_id, uid, node) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [id, appId, districtId, uid, node],
    );
    return toGear(rows[0]);
  } catch (err) {
    if (constraintOf(err) === "gears_district_id_uid_key")
      throw new ConflictError(`uid ${uid} is taken by a gear`);
    throw err;
  }
}

export async function getGear(q: Queryable, id: string): Promise<Gear | null> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM gears g WHERE g.id = $1`, [
    validateId("gear_id", id),
  ]);
  return rows[0] ? toGear(rows[0]) : null;
}

export async function listGears(q: Queryable, appId: string): Promise<Gear[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM gears g WHERE g.app_id = $1 ORDER BY g.created_at, g.id`,
    [validateId("application_id", appId)],
  );
  return rows.map(toGear);
}

export async function listGearsOnNode(q: Queryable, node: string): Promise<Gear[]> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM gears g WHERE g.node = $1 ORDER BY g.uid`, [
    validateNodeIdentity(node),
  ]);
  return rows.map(toGear);
}

export async function listAllGears(q: Queryable): Promise<Gear[]> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM gears g ORDER BY g.node, g.uid`);
  return rows.map(toGear);
}

/**
 * Deletes a gear's record and returns its UID to the district's pool, in one transaction when q is one.
 * Resolves to the deleted gear, or null if it was not there (a repeated delete succeeds).
 */
export async function deleteGear(q: Queryable, id: string): Promise<Gear | null> {
  const { rows } = await q.query<Row>(`DELETE FROM gears g WHERE g.id = $1 RETURNING ${COLUMNS}`, [
    validateId("gear_id", id),
  ]);
  if (!rows[0]) return null;
  const gear = toGear(rows[0]);
  await releaseUid(q, gear.districtId, gear.uid);
  return gear;
}
