// Domains (namespaces) and their owner. A developer sees only their own: the lookups that take an owner
// answer null for another user's domain, so the REST layer can answer 404 rather than 403.

import { ConflictError, NotFoundError } from "../../../common/errors";
import type { Domain } from "../model/types";
import { validateId, validateNamespace } from "../model/validate";
import { constraintOf, type Queryable } from "./db";
import { newId } from "./secrets";

interface Row {
  id: string;
  namespace: string;
  owner_id: string;
  created_at: Date;
}

const COLUMNS = "id, namespace, owner_id, created_at";

function toDomain(r: Row): Domain {
  return { id: r.id, namespace: r.namespace, ownerId: r.owner_id, createdAt: r.created_at };
}

/**
 * Creates a domain, refusing past the owner's max_domains. Run it inside Db.tx: the owner's row is locked
 * so two concurrent creates cannot both pass the limit.
 */
export async function createDomain(q: Queryable, d: { namespace: string; ownerId: string }): Promise<Domain> {
  const namespace = validateNamespace(d.namespace);
  const ownerId = validateId("owner_id", d.ownerId);
  // lock the owner's row first, then count in a statement of its own: under READ COMMITTED a count in the
  // locking statement would be of the snapshot taken before the wait, blind to the domains just committed
  const { rows: owner } = await q.query<{ max_domains: number }>(
    `SELECT max_domains FROM users WHERE id = $1 FOR UPDATE`,
    [ownerId],
  );
  if (!owner[0]) throw new NotFoundError(`user ${ownerId} not found`);
  const { rows: count } = await q.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM domains WHERE owner_id = $1`,
    [ownerId],
  );
  if (count[0].n >= owner[0].max_domains) {
    throw new ConflictError(
      `the user already has ${count[0].n} domains (max_domains ${owner[0].max_domains})`,
    );
  }
  try {
    const { rows } = await q.query<Row>(
      `INSERT INTO domains (id, namespace, owner_id) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [newId(), namespace, ownerId],
    );
    return toDomain(rows[0]);
  } catch (err) {
    if (constraintOf(err) === "domains_namespace")
      throw new ConflictError(`namespace '${namespace}' is taken`);
    throw err;
  }
}

/** The domain of this namespace (any case); with ownerId, only if that user owns it. */
export async function getDomain(q: Queryable, namespace: string, ownerId?: string): Promise<Domain | null> {
  const ns = validateNamespace(namespace);
  const { rows } =
    ownerId === undefined
      ? await q.query<Row>(`SELECT ${COLUMNS} FROM domains WHERE lower(namespace) = lower($1)`, [ns])
      : await q.query<Row>(
          `SELECT ${COLUMNS} FROM domains WHERE lower(namespace) = lower($1) AND owner_id = $2`,
          [ns, validateId("owner_id", ownerId)],
        );
  return rows[0] ? toDomain(rows[0]) : null;
}

export async function getDomainById(q: Queryable, id: string): Promise<Domain | null> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM domains WHERE id = $1`, [
    validateId("domain_id", id),
  ]);
  return rows[0] ? toDomain(rows[0]) : null;
}

/** The user's domains, or every domain when ownerId is omitted (admin). */
export async function listDomains(q: Queryable, ownerId?: string): Promise<Domain[]> {
  const { rows } =
    ownerId === undefined
      ? await q.query<Row>(`SELECT ${COLUMNS} FROM domains ORDER BY namespace`)
      : await q.query<Row>(`SELECT ${COLUMNS} FROM domains WHERE owner_id = $1 ORDER BY namespace`, [
          validateId("owner_id", ownerId),
        ]);
  return rows.map(toDomain);
}

/** Renames a domain that has no applications (PUT domains/:id). */
export async function renameDomain(q: Queryable, id: string, namespace: string): Promise<Domain> {
  const ns = validateNamespace(namespace);
  validateId("domain_id", id);
  const { rows: apps } = await q.query(`SELECT 1 FROM applications WHERE domain_id = $1 LIMIT 1`, [id]);
  if (apps.length) throw new ConflictError("a domain with applications cannot be renamed");
  try {
    const { rows } = await q.query<Row>(
      `UPDATE domains SET namespace = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, ns],
    );
    if (!rows[0]) throw new NotFoundError(`domain ${id} not found`);
    return toDomain(rows[0]);
  } catch (err) {
    if (constraintOf(err) === "domains_namespace") throw new ConflictError(`namespace '${ns}' is taken`);
    throw err;
  }
}

/** Deletes a domain with no applications; false if it was not there. */
export async function deleteDomain(q: Queryable, id: string): Promise<boolean> {
  try {
    const r = await q.query(`DELETE FROM domains WHERE id = $1`, [validateId("domain_id", id)]);
    return (r.rowCount ?? 0) > 0;
  } catch (err) {
    if (constraintOf(err) === "applications_domain_id_fkey") {
      throw new ConflictError("the domain still has applications");
    }
    throw err;
  }
}
