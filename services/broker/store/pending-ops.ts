// Pending operations (origin-server's pending_op_groups): the rows of op chains. Every write after the
// insert is fenced by the claim: it changes the row only while `claimed_by` is still the writer, so a broker
// that lost its lease (stalled, or presumed dead and then back) cannot overwrite the progress of the broker
// that took the chain over; it gets a LeaseLostError and stops. op-engine.ts drives chains over these.

import { ConflictError, NotFoundError, ValidationError } from "../../../common/errors";
import type { Json, OpError, OpState, OpStep, PendingOp } from "../model/types";
import { OP_STATES, STEP_STATES } from "../model/types";
import { validateId, validateInt, validateString } from "../model/validate";
import type { Queryable } from "./db";
import { newId } from "./secrets";

/** This broker no longer holds the chain's lease: another one claimed it. Stop driving it. */
export class LeaseLostError extends ConflictError {
  constructor(readonly opId: string) {
    super(`pending operation ${opId} is no longer claimed by this broker`);
  }
}

interface Row {
  id: string;
  app_id: string | null;
  kind: string;
  steps: OpStep[];
  current_step: number;
  state: OpState;
  claimed_by: string | null;
  claimed_until: Date | null;
  error: OpError | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  "id, app_id, kind, steps, current_step, state, claimed_by, claimed_until, error, created_at, updated_at";

function toOp(r: Row): PendingOp {
  return {
    id: r.id,
    appId: r.app_id,
    kind: r.kind,
    steps: r.steps,
    currentStep: r.current_step,
    state: r.state,
    claimedBy: r.claimed_by,
    claimedUntil: r.claimed_until,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const KIND_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;
const STEP_NAME_PATTERN = /^[a-z][a-zA-Z0-9_.:-]{0,127}$/;
const OWNER_PATTERN = /^[\w.:@-]{1,128}$/;

const validateOwner = (v: unknown): string => {
  if (typeof v !== "string" || !OWNER_PATTERN.test(v)) {
    throw new ValidationError("owner", "must be 1-128 characters of [A-Za-z0-9_.:@-] (a broker id)");
  }
  return v;
};
const leaseSeconds = (ms: number): number => validateInt("lease_ms", ms, 100, 24 * 3600 * 1000) / 1000;

export interface NewOp {
  readonly kind: string;
  readonly appId: string | null;
  readonly steps: readonly { name: string; args?: Json }[];
  /** the broker that starts it (it holds the first lease) */
  readonly owner: string;
  readonly leaseMs: number;
  readonly id?: string;
}

/** Records a new chain, state running, claimed by its owner. */
export async function insertOp(q: Queryable, o: NewOp): Promise<PendingOp> {
  const id = o.id === undefined ? newId() : validateId("id", o.id);
  const appId = o.appId === null ? null : validateId("application_id", o.appId);
  if (typeof o.kind !== "string" || !KIND_PATTERN.test(o.kind)) {
    throw new ValidationError("kind", "must be a lower-case name of [a-z0-9_.-]");
  }
  if (!Array.isArray(o.steps) || o.steps.length === 0 || o.steps.length > 1000) {
    throw new ValidationError("steps", "must list 1-1000 steps");
  }
  const steps: OpStep[] = o.steps.map((s, i) => {
    if (typeof s?.name !== "string" || !STEP_NAME_PATTERN.test(s.name)) {
      throw new ValidationError(
        `steps[${i}].name`,
        "must be a step name of [a-zA-Z0-9_.:-] starting with a-z",
      );
    }
    return { name: s.name, args: s.args ?? null, state: "pending", undo: null };
  });
  const { rows } = await q.query<Row>(
    `INSERT INTO pending_ops (id, app_id, kind, steps, state, claimed_by, claimed_until)
     VALUES ($1, $2, $3, $4, 'running', $5, now() + make_interval(secs => $6)) RETURNING ${COLUMNS}`,
    [id, appId, o.kind, JSON.stringify(steps), validateOwner(o.owner), leaseSeconds(o.leaseMs)],
  );
  return toOp(rows[0]);
}

/**
 * Claims the oldest open chain (pending, running or rolling back) that nobody holds or whose lease ran out,
 * for owner, or null if there is none. Concurrent brokers claim different rows (FOR UPDATE SKIP LOCKED).
 */
export async function claimNextOp(
  q: Queryable,
  owner: string,
  leaseMs: number,
  opts: { kinds?: readonly string[] } = {},
): Promise<PendingOp | null> {
  const kinds = opts.kinds ? [...opts.kinds] : null;
  const { rows } = await q.query<Row>(
    `UPDATE pending_ops SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2), updated_at = now()
      WHERE id = (SELECT id FROM pending_ops
                   WHERE state IN ('pending', 'running', 'rolling_back')
                     AND (claimed_until IS NULL OR claimed_until < now())
                     AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
                   ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [validateOwner(owner), leaseSeconds(leaseMs), kinds],
  );
  return rows[0] ? toOp(rows[0]) : null;
}

export interface OpProgress {
  readonly steps: readonly OpStep[];
  readonly currentStep: number;
  readonly state: OpState;
  readonly error: OpError | null;
}

function validateProgress(p: OpProgress): void {
  if (!(OP_STATES as readonly string[]).includes(p.state))
    throw new ValidationError("state", "unknown state");
  validateInt("current_step", p.currentStep, 0, p.steps.length);
  p.steps.forEach((s, i) => {
    if (!(STEP_STATES as readonly string[]).includes(s.state)) {
      throw new ValidationError(`steps[${i}].state`, "unknown step state");
    }
  });
  if (p.error) validateString("error.message", p.error.message, 10_000);
}

/**
 * Writes a chain's progress and renews the lease, only while owner still holds the claim; a finished chain
 * (done, failed) is unclaimed. Throws LeaseLostError when another broker holds it now.
 */
export async function saveOp(
  q: Queryable,
  id: string,
  owner: string,
  leaseMs: number,
  p: OpProgress,
): Promise<PendingOp> {
  validateProgress(p);
  const { rows } = await q.query<Row>(
    `UPDATE pending_ops
        SET steps = $3, current_step = $4, state = $5, error = $6, updated_at = now(),
            claimed_by = CASE WHEN $5 IN ('done', 'failed') THEN NULL ELSE claimed_by END,
            claimed_until = CASE WHEN $5 IN ('done', 'failed') THEN NULL
                                 ELSE now() + make_interval(secs => $7) END
      WHERE id = $1 AND claimed_by = $2
      RETURNING ${COLUMNS}`,
    [
      validateId("id", id),
      validateOwner(owner),
      JSON.stringify(p.steps),
      p.currentStep,
      p.state,
      p.error === null ? null : JSON.stringify(p.error),
      leaseSeconds(leaseMs),
    ],
  );
  if (!rows[0]) throw new LeaseLostError(id);
  return toOp(rows[0]);
}

/** Extends owner's lease (a long step's heartbeat); LeaseLostError if it is not owner's any more. */
export async function renewLease(q: Queryable, id: string, owner: string, leaseMs: number): Promise<void> {
  const r = await q.query(
    `UPDATE pending_ops SET claimed_until = now() + make_interval(secs => $3)
      WHERE id = $1 AND claimed_by = $2 AND state IN ('pending', 'running', 'rolling_back')`,
    [validateId("id", id), validateOwner(owner), leaseSeconds(leaseMs)],
  );
  if (!r.rowCount) throw new LeaseLostError(id);
}

/** Gives a chain up without finishing it (a broker shutting down): any broker may claim it at once. */
export async function releaseClaim(q: Queryable, id: string, owner: string): Promise<void> {
  await q.query(
    `UPDATE pending_ops SET claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND claimed_by = $2`,
    [validateId("id", id), validateOwner(owner)],
  );
}

export async function getOp(q: Queryable, id: string): Promise<PendingOp> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM pending_ops WHERE id = $1`, [
    validateId("id", id),
  ]);
  if (!rows[0]) throw new NotFoundError(`pending operation ${id} not found`);
  return toOp(rows[0]);
}

/** Chains not finished yet, oldest first (for checks and the admin API). */
export async function listOpenOps(q: Queryable): Promise<PendingOp[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM pending_ops WHERE state IN ('pending', 'running', 'rolling_back') ORDER BY created_at, id`,
  );
  return rows.map(toOp);
}

/** An application's chains, newest first. */
export async function listOpsOfApp(q: Queryable, appId: string): Promise<PendingOp[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM pending_ops WHERE app_id = $1 ORDER BY created_at DESC, id`,
    [validateId("application_id", appId)],
  );
  return rows.map(toOp);
}

/** Deletes finished chains last updated more than `olderThanMs` ago; resolves to how many. */
export async function purgeFinishedOps(q: Queryable, olderThanMs: number): Promise<number> {
  const r = await q.query(
    `DELETE FROM pending_ops WHERE state IN ('done', 'failed') AND updated_at < now() - make_interval(secs => $1)`,
    [validateInt("older_than_ms", olderThanMs, 0, 2 ** 42) / 1000],
  );
  return r.rowCount ?? 0;
}
