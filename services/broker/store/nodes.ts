// Nodes as the broker knows them: the facts each agent last published and when (reference §4.4). Whether
// a node is responsive is decided from last_seen by the caller (placement takes `now` and a silence limit).

import { ValidationError } from "../../../common/errors";
import type { NodeFacts, NodeRecord } from "../model/types";
import { validateInt, validateNodeIdentity, validateString } from "../model/validate";
import type { Queryable } from "./db";

interface Row {
  identity: string;
  facts: NodeFacts | null;
  last_seen: Date | null;
}

function toNode(r: Row): NodeRecord {
  return { identity: r.identity, facts: r.facts, lastSeen: r.last_seen };
}

/** Checks a facts message's fields (the bus delivers them from agents: they are input like any other). */
export function validateFacts(f: unknown): NodeFacts {
  if (typeof f !== "object" || f === null || Array.isArray(f))
    throw new ValidationError("facts", "must be an object");
  const o = f as Record<string, unknown>;
  const node = validateNodeIdentity(o.node, "facts.node");
  validateString("facts.profile", o.profile, 64);
  validateInt("facts.activeGears", o.activeGears, 0, 1_000_000);
  validateInt("facts.maxActiveGears", o.maxActiveGears, 0, 1_000_000);
  validateString("facts.publicHostname", o.publicHostname, 253);
  if (o.district !== undefined && o.district !== null) validateString("facts.district", o.district, 128);
  if (!Array.isArray(o.cartridges)) throw new ValidationError("facts.cartridges", "must be an array");
  o.cartridges.forEach((c, i) => {
    if (typeof c !== "object" || c === null)
      throw new ValidationError(`facts.cartridges[${i}]`, "must be an object");
    const cc = c as Record<string, unknown>;
    validateString(`facts.cartridges[${i}].name`, cc.name, 64);
    validateString(`facts.cartridges[${i}].version`, cc.version, 32);
    validateString(`facts.cartridges[${i}].type`, cc.type, 32);
  });
  if (typeof o.at !== "number" || !Number.isFinite(o.at))
    throw new ValidationError("facts.at", "must be epoch ms");
  return { ...(o as unknown as NodeFacts), node };
}

/** Records a node's facts and marks it seen now. */
export async function recordFacts(q: Queryable, facts: NodeFacts): Promise<NodeRecord> {
  const f = validateFacts(facts);
  const { rows } = await q.query<Row>(
    `INSERT INTO nodes (identity, facts, last_seen) VALUES ($1, $2, now())
     ON CONFLICT (identity) DO UPDATE SET facts = excluded.facts, last_seen = excluded.last_seen
     RETURNING identity, facts, last_seen`,
    [f.node, JSON.stringify(f)],
  );
  return toNode(rows[0]);
}

/** Marks a node seen now (a reply arrived from it) without new facts. */
export async function markSeen(q: Queryable, identity: string): Promise<void> {
  await q.query(
    `INSERT INTO nodes (identity, last_seen) VALUES ($1, now())
     ON CONFLICT (identity) DO UPDATE SET last_seen = excluded.last_seen`,
    [validateNodeIdentity(identity)],
  );
}

export async function getNode(q: Queryable, identity: string): Promise<NodeRecord | null> {
  const { rows } = await q.query<Row>(`SELECT identity, facts, last_seen FROM nodes WHERE identity = $1`, [
    validateNodeIdentity(identity),
  ]);
  return rows[0] ? toNode(rows[0]) : null;
}

export async function listNodes(q: Queryable): Promise<NodeRecord[]> {
  const { rows } = await q.query<Row>(`SELECT identity, facts, last_seen FROM nodes ORDER BY identity`);
  return rows.map(toNode);
}

/** Forgets a node that is in no district; false if it was not known. */
export async function forgetNode(q: Queryable, identity: string): Promise<boolean> {
  const r = await q.query(
    `DELETE FROM nodes WHERE identity = $1 AND NOT EXISTS (SELECT 1 FROM district_nodes WHERE identity = $1)`,
    [validateNodeIdentity(identity)],
  );
  return (r.rowCount ?? 0) > 0;
}
