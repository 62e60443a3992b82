// Districts, their nodes, and their UID pools (reference §4.1-4.3). Every district hands out UIDs from its
// own block [first_uid, first_uid + uid_count); a UID is unique within its district only, so a gear keeps
// its UID (and with it its MCS label, loopback IPs and ports) on any node of the district.
//
// Reservation is one statement: the lowest-`ord` free row of the district is locked FOR UPDATE SKIP LOCKED
// (concurrent brokers take different rows, none waits), deleted from the pool and inserted into
// uid_reservations, whose primary key makes a duplicate impossible. A reservation names its holder (a gear
// id): reserving again for the same holder returns the same UID, so a resumed step does not leak one.

import { ConflictError, NotFoundError, UnavailableError, ValidationError } from "../../../common/errors";
import type { GearProfile } from "../../../common/profiles";
import type { District, DistrictCapacity, DistrictNode } from "../model/types";
import {
  validateDistrictName,
  validateId,
  validateInt,
  validateNodeIdentity,
  validateProfile,
  validateUidBlock,
} from "../model/validate";
import { constraintOf, type Queryable } from "./db";
import { newId } from "./secrets";

/** origin-server's DISTRICTS_FIRST_UID and DISTRICTS_MAX_CAPACITY */
export const DEFAULT_FIRST_UID = 1000;
export const DEFAULT_UID_COUNT = 6000;

interface Row {
  id: string;
  name: string;
  profile: GearProfile;
  first_uid: number;
  uid_count: number;
  active: boolean;
  created_at: Date;
}

const COLUMNS = "d.id, d.name, d.profile, d.first_uid, d.uid_count, d.active, d.created_at";
const WITH_AVAILABLE = `${COLUMNS},
  (SELECT count(*) FROM district_free_uids f WHERE f.district_id = d.id)::integer AS available`;

function toDistrict(r: Row): District {
  return {
    id: r.id,
    name: r.name,
    profile: r.profile,
    firstUid: r.first_uid,
    uidCount: r.uid_count,
    active: r.active,
    createdAt: r.created_at,
  };
}

function toCapacity(r: Row & { available: number }): DistrictCapacity {
  return { ...toDistrict(r), availableUids: r.available };
}

export interface NewDistrict {
  readonly name: string;
  readonly profile: GearProfile;
  readonly firstUid?: number;
  readonly uidCount?: number;
}

/** Creates a district and its pool of free UIDs (in shuffled order). Run it inside Db.tx. */
export async function createDistrict(q: Queryable, d: NewDistrict): Promise<DistrictCapacity> {
  const name = validateDistrictName(d.name);
  const profile = validateProfile(d.profile);
  const { firstUid, uidCount } = validateUidBlock(
    d.firstUid ?? DEFAULT_FIRST_UID,
    d.uidCount ?? DEFAULT_UID_COUNT,
  );
  const id = newId();
  try {
    await q.query(
      `INSERT INTO districts (id, name, profile, first_uid, uid_count) VALUES ($1, $2, $3, $4, $5)`,
      [id, name, profile, firstUid, uidCount],
    );
  } catch (err) {
    if (constraintOf(err) === "districts_name_key") throw new ConflictError(`district '${name}' exists`);
    throw err;
  }
  await q.query(
    `INSERT INTO district_free_uids (district_id, uid, ord)
     SELECT $1, g, random() FROM generate_series($2::integer, $3::integer) AS g`,
    [id, firstUid, firstUid + uidCount - 1],
  );
  return (await getDistrict(q, id))!;
}

export async function getDistrict(q: Queryable, id: string): Promise<DistrictCapacity | null> {
  const { rows } = await q.query<Row & { available: number }>(
    `SELECT ${WITH_AVAILABLE} FROM districts d WHERE d.id = $1`,
    [validateId("district_id", id)],
  );
  return rows[0] ? toCapacity(rows[0]) : null;
}

export async function getDistrictByName(q: Queryable, name: string): Promise<DistrictCapacity | null> {
  const { rows } = await q.query<Row & { available: number }>(
    `SELECT ${WITH_AVAILABLE} FROM districts d WHERE d.name = $1`,
    [validateDistrictName(name)],
  );
  return rows[0] ? toCapacity(rows[0]) : null;
}

export async function listDistricts(q: Queryable): Promise<DistrictCapacity[]> {
  const { rows } = await q.query<Row & { available: number }>(
    `SELECT ${WITH_AVAILABLE} FROM districts d ORDER BY d.name`,
  );
  return rows.map(toCapacity);
}

export async function setDistrictActive(q: Queryable, id: string, active: boolean): Promise<void> {
  const r = await q.query(`UPDATE districts SET active = $2 WHERE id = $1`, [
    validateId("district_id", id),
    !!active,
  ]);
  if (!r.rowCount) throw new NotFoundError(`district ${id} not found`);
}

/** Deletes a district with no nodes and no reserved UIDs; false if it was not there. */
export async function deleteDistrict(q: Queryable, id: string): Promise<boolean> {
  validateId("district_id", id);
  try {
    const r = await q.query(`DELETE FROM districts WHERE id = $1`, [id]);
    return (r.rowCount ?? 0) > 0;
  } catch (err) {
    const c = constraintOf(err);
    if (c === "district_nodes_district_id_fkey") throw new ConflictError("the district still has nodes");
    if (c === "uid_reservations_district_id_fkey")
      throw new ConflictError("the district still has reserved UIDs");
    throw err;
  }
}

/** Adds n UIDs after the block's end (origin's add_capacity). Run it inside Db.tx. */
export async function addDistrictCapacity(q: Queryable, id: string, n: number): Promise<DistrictCapacity> {
  validateId("district_id", id);
  const count = validateInt("count", n, 1, 100_000);
  const d = await lockDistrict(q, id);
  validateUidBlock(d.first_uid, d.uid_count + count);
  await q.query(
    `INSERT INTO district_free_uids (district_id, uid, ord)
     SELECT $1, g, random() FROM generate_series($2::integer, $3::integer) AS g`,
    [id, d.first_uid + d.uid_count, d.first_uid + d.uid_count + count - 1],
  );
  await q.query(`UPDATE districts SET uid_count = uid_count + $2 WHERE id = $1`, [id, count]);
  return (await getDistrict(q, id))!;
}

/** Removes the top n UIDs of the block, only if every one of them is free (origin's remove_capacity). In Db.tx. */
export async function removeDistrictCapacity(q: Queryable, id: string, n: number): Promise<DistrictCapacity> {
  validateId("district_id", id);
  const d = await lockDistrict(q, id);
  const count = validateInt("count", n, 1, d.uid_count - 1);
  const from = d.first_uid + d.uid_count - count;
  const r = await q.query(`DELETE FROM district_free_uids WHERE district_id = $1 AND uid >= $2`, [id, from]);
  if ((r.rowCount ?? 0) !== count) {
    throw new ConflictError(`UIDs ${from}-${d.first_uid + d.uid_count - 1} are not all free`);
  }
  await q.query(`UPDATE districts SET uid_count = uid_count - $2 WHERE id = $1`, [id, count]);
  return (await getDistrict(q, id))!;
}

async function lockDistrict(q: Queryable, id: string): Promise<Row> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM districts d WHERE d.id = $1 FOR UPDATE`, [id]);
  if (!rows[0]) throw new NotFoundError(`district ${id} not found`);
  return rows[0];
}

// ---- UIDs -------------------------------------------------------------------------------------------------

const HOLDER_PATTERN = /^[\w.:-]{1,128}$/;

function validateHolder(holder: unknown): string {
  if (typeof holder !== "string" || !HOLDER_PATTERN.test(holder)) {
    throw new ValidationError("holder", "must be 1-128 characters of [A-Za-z0-9_.:-] (a gear id)");
  }
  return holder;
}

/**
 * Reserves a UID of the district for holder and resolves to it: the same UID again if holder already holds
 * one. With `uid`, that UID or a ConflictError. Atomic on its own (one statement); inside a Db.tx it commits
 * with the rest. Fails with UnavailableError when the district has no free UID left.
 */
export async function reserveUid(
  q: Queryable,
  districtId: string,
  holder: string,
  opts: { uid?: number } = {},
): Promise<number> {
  const id = validateId("district_id", districtId);
  const h = validateHolder(holder);
  for (let attempt = 0; attempt < 20; attempt++) {
    const held = await q.query<{ uid: number }>(
      `SELECT uid FROM uid_reservations WHERE district_id = $1 AND holder = $2`,
      [id, h],
    );
    if (held.rows[0]) return held.rows[0].uid;
    let rows: { uid: number }[];
    try {
      rows = (
        opts.uid === undefined
          ? await q.query<{ uid: number }>(
              `WITH picked AS (
                 SELECT uid FROM district_free_uids WHERE district_id = $1
                  ORDER BY ord LIMIT 1 FOR UPDATE SKIP LOCKED
               ), taken AS (
                 DELETE FROM district_free_uids f USING picked p
                  WHERE f.district_id = $1 AND f.uid = p.uid RETURNING f.uid
               )
               INSERT INTO uid_reservations (district_id, uid, holder) SELECT $1, uid, $2 FROM taken RETURNING uid`,
              [id, h],
            )
          : await q.query<{ uid: number }>(
              `WITH taken AS (DELETE FROM district_free_uids WHERE district_id = $1 AND uid = $3 RETURNING uid)
               INSERT INTO uid_reservations (district_id, uid, holder) SELECT $1, uid, $2 FROM taken RETURNING uid`,
              [id, h, validateInt("uid", opts.uid, 0, 2 ** 31 - 1)],
            )
      ).rows;
    } catch (err) {
      // the same holder reserved concurrently: the other one won, and the next round returns its UID
      if (constraintOf(err) === "uid_reservations_holder") continue;
      throw err;
    }
    if (rows[0]) return rows[0].uid;
    if (opts.uid !== undefined) throw new ConflictError(`uid ${opts.uid} is not free in district ${id}`);
    // nothing picked: either no free UID at all, or every free row is locked by other reservations right now
    const { rows: free } = await q.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM district_free_uids WHERE district_id = $1`,
      [id],
    );
    if (free[0].n === 0) {
      const { rows: d } = await q.query(`SELECT 1 FROM districts WHERE id = $1`, [id]);
      if (!d.length) throw new NotFoundError(`district ${id} not found`);
      throw new UnavailableError(`district ${id} has no free UID left`);
    }
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
  throw new UnavailableError(`district ${id}: no free UID could be taken (too much contention)`);
}

/**
 * Returns a UID to its district's pool (after every fresh UID, as origin's release did). Resolves false if it
 * was not reserved. A ConflictError if a gear still holds it.
 */
export async function releaseUid(q: Queryable, districtId: string, uid: number): Promise<boolean> {
  const id = validateId("district_id", districtId);
  const u = validateInt("uid", uid, 0, 2 ** 31 - 1);
  try {
    const { rows } = await q.query(
      `WITH gone AS (DELETE FROM uid_reservations WHERE district_id = $1 AND uid = $2 RETURNING district_id, uid)
       INSERT INTO district_free_uids (district_id, uid, ord)
       SELECT g.district_id, g.uid, extract(epoch FROM clock_timestamp()) FROM gone g
         JOIN districts d ON d.id = g.district_id AND g.uid < d.first_uid + d.uid_count
       ON CONFLICT DO NOTHING RETURNING uid`,
      [id, u],
    );
    return rows.length > 0;
  } catch (err) {
    if (constraintOf(err) === "gears_district_id_uid_fkey") {
      throw new ConflictError(`uid ${u} of district ${id} is still held by a gear`);
    }
    throw err;
  }
}

/** Releases whatever UID holder has in any district (an undo after a crash); resolves to the UIDs released. */
export async function releaseUidsOf(q: Queryable, holder: string): Promise<number[]> {
  const h = validateHolder(holder);
  const { rows } = await q.query<{ district_id: string; uid: number }>(
    `SELECT district_id, uid FROM uid_reservations WHERE holder = $1`,
    [h],
  );
  const released: number[] = [];
  for (const r of rows) if (await releaseUid(q, r.district_id, r.uid)) released.push(r.uid);
  return released;
}

/** The UIDs reserved in a district, with their holders (for checks). */
export async function listReservedUids(
  q: Queryable,
  districtId: string,
): Promise<{ uid: number; holder: string }[]> {
  const { rows } = await q.query<{ uid: number; holder: string }>(
    `SELECT uid, holder FROM uid_reservations WHERE district_id = $1 ORDER BY uid`,
    [validateId("district_id", districtId)],
  );
  return rows;
}

// ---- nodes of a district ----------------------------------------------------------------------------------

/**
 * Adds a node to a district (origin's add-node): refused if it is in a district already, if it hosts gears,
 * or if its last facts name another profile than the district's.
 */
export async function addDistrictNode(
  q: Queryable,
  districtId: string,
  identity: string,
): Promise<DistrictNode> {
  const id = validateId("district_id", districtId);
  const node = validateNodeIdentity(identity);
  const d = await getDistrict(q, id);
  if (!d) throw new NotFoundError(`district ${id} not found`);
  const { rows: facts } = await q.query<{ profile: string | null }>(
    `SELECT facts->>'profile' AS profile FROM nodes WHERE identity = $1`,
    [node],
  );
  if (facts[0]?.profile && facts[0].profile !== d.profile) {
    throw new ValidationError(
      "node",
      `node ${node} has profile '${facts[0].profile}', the district '${d.profile}'`,
    );
  }
  const { rows: gears } = await q.query(`SELECT 1 FROM gears WHERE node = $1 LIMIT 1`, [node]);
  if (gears.length) throw new ConflictError(`node ${node} already hosts gears`);
  try {
    const { rows } = await q.query<{ district_id: string; identity: string; active: boolean }>(
      `INSERT INTO district_nodes (identity, district_id) VALUES ($1, $2) RETURNING identity, district_id, active`,
      [node, id],
    );
    return { districtId: rows[0].district_id, identity: rows[0].identity, active: rows[0].active };
  } catch (err) {
    if (constraintOf(err) === "district_nodes_pkey")
      throw new ConflictError(`node ${node} is already in a district`);
    throw err;
  }
}

export async function setDistrictNodeActive(q: Queryable, identity: string, active: boolean): Promise<void> {
  const r = await q.query(`UPDATE district_nodes SET active = $2 WHERE identity = $1`, [
    validateNodeIdentity(identity),
    !!active,
  ]);
  if (!r.rowCount) throw new NotFoundError(`node ${identity} is in no district`);
}

/** Removes a node from its district: it must be deactivated and host no gears; false if it was in none. */
export async function removeDistrictNode(q: Queryable, identity: string): Promise<boolean> {
  const node = validateNodeIdentity(identity);
  const { rows } = await q.query<{ active: boolean }>(
    `SELECT active FROM district_nodes WHERE identity = $1`,
    [node],
  );
  if (!rows[0]) return false;
  if (rows[0].active) throw new ConflictError(`node ${node} is active: deactivate it first`);
  const { rows: gears } = await q.query(`SELECT 1 FROM gears WHERE node = $1 LIMIT 1`, [node]);
  if (gears.length) throw new ConflictError(`node ${node} still hosts gears`);
  await q.query(`DELETE FROM district_nodes WHERE identity = $1`, [node]);
  return true;
}

export async function listDistrictNodes(q: Queryable, districtId?: string): Promise<DistrictNode[]> {
  const { rows } =
    districtId === undefined
      ? await q.query<{ district_id: string; identity: string; active: boolean }>(
          `SELECT district_id, identity, active FROM district_nodes ORDER BY identity`,
        )
      : await q.query<{ district_id: string; identity: string; active: boolean }>(
          `SELECT district_id, identity, active FROM district_nodes WHERE district_id = $1 ORDER BY identity`,
          [validateId("district_id", districtId)],
        );
  return rows.map((r) => ({ districtId: r.district_id, identity: r.identity, active: r.active }));
}
