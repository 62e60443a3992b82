// Pending-operation chains (origin-server's pending_op_groups) over the store's `pending_ops` table: a chain
// is a list of named steps, each done by a StepDef and undone by its undo, in order. Progress is written to
// the row before and after every step, so whichever broker holds the lease can go on after a crash: a chain
// that was going forward goes on forward (every step is idempotent: node calls carry the step's stable
// correlation id and the node operations converge), one that was rolling back goes on undoing. A step that
// fails rolls the chain back in reverse; a step that fails to undo leaves the chain `failed` with the error,
// for `geartrain check` to report.

import { randomUUID } from "crypto";
import { reportOf } from "../../../common/errors";
import type { Queryable } from "../store";
import type { Json, OpStep, PendingOp } from "../model/types";

export interface StepCtx {
  readonly op: { readonly id: string; readonly appId: string | null; readonly kind: string };
  readonly index: number;
  readonly args: Json;
  /** what the earlier steps returned (their undo data), by step name */
  readonly done: Readonly<Record<string, Json>>;
  /** a correlation id for node calls of this step, stable across retries and brokers */
  readonly callId: (suffix?: string) => string;
}

export interface StepDef {
  /** does the step; resolves to what its undo (and later steps) need */
  run(ctx: StepCtx): Promise<Json>;
  /** undoes it; `undo` is null when the step had started but was not recorded as done */
  undo(ctx: StepCtx, undo: Json): Promise<void>;
}

export type StepTable = Readonly<Record<string, StepDef>>;

export interface ChainResult {
  readonly state: "done" | "failed";
  readonly error: unknown;
  readonly done: Readonly<Record<string, Json>>;
  /** the step that failed going forward */
  readonly failedStep?: string;
  /** after a failure: whether every undo succeeded */
  readonly rolledBack?: boolean;
}

interface Row {
  id: string;
  app_id: string | null;
  kind: string;
  steps: OpStep[];
  current_step: number;
  state: PendingOp["state"];
  error: Json;
}

export interface ChainOptions {
  readonly brokerId: string;
  /** how long a claim lasts without progress (renewed at every step) */
  readonly leaseMs: number;
  readonly log?: (obj: Record<string, unknown>, msg: string) => void;
}

export class ChainRunner {
  constructor(
    private readonly db: Queryable,
    private readonly table: (kind: string) => StepTable,
    private readonly opts: ChainOptions,
  ) {}

  /** Records a new chain, claimed by this broker, and runs it to the end (done, or rolled back). */
  async start(
    kind: string,
    appId: string | null,
    steps: { name: string; args: Json }[],
  ): Promise<ChainResult> {
    const id = randomUUID().replace(/-/g, "");
    const initial: OpStep[] = steps.map((s) => ({
      name: s.name,
      args: s.args,
      state: "pending",
      undo: null,
    }));
    await this.db.query(
      `INSERT INTO pending_ops (id, app_id, kind, steps, state, claimed_by, claimed_until)
       VALUES ($1, $2, $3, $4, 'running', $5, now() + make_interval(secs => $6))`,
      [id, appId, kind, JSON.stringify(initial), this.opts.brokerId, this.opts.leaseMs / 1000],
    );
    return this.drive({
      id,
      app_id: appId,
      kind,
      steps: initial,
      current_step: 0,
      state: "running",
      error: null,
    });
  }

  /**
   * Claims every open chain whose lease has run out (or that no one holds) and drives each to its end;
   * resolves to how many it finished. Concurrent brokers claim different rows (SKIP LOCKED).
   */
  async resumeAll(): Promise<number> {
    let n = 0;
    for (;;) {
      const { rows } = await this.db.query<Row>(
        `UPDATE pending_ops SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2),
                updated_at = now()
          WHERE id = (SELECT id FROM pending_ops
                       WHERE state IN ('pending', 'running', 'rolling_back')
                         AND (claimed_until IS NULL OR claimed_until < now())
                       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, app_id, kind, steps, current_step, state, error`,
        [this.opts.brokerId, this.opts.leaseMs / 1000],
      );
      if (!rows[0]) return n;
      this.opts.log?.(
        { op: rows[0].id, kind: rows[0].kind, state: rows[0].state },
        "resuming a pending operation",
      );
      await this.drive(rows[0]);
      n++;
    }
  }

  private async save(r: Row): Promise<void> {
    await this.db.query(
      `UPDATE pending_ops SET steps = $2, current_step = $3, state = $4, error = $5, updated_at = now(),
              claimed_until = CASE WHEN $4 IN ('done', 'failed') THEN NULL
                                   ELSE now() + make_interval(secs => $6) END
        WHERE id = $1`,
      [
        r.id,
        JSON.stringify(r.steps),
        r.current_step,
        r.state,
        JSON.stringify(r.error),
        this.opts.leaseMs / 1000,
      ],
    );
  }

  private ctx(r: Row, i: number): StepCtx {
    const done: Record<string, Json> = {};
    for (const s of r.steps) if (s.state === "done") done[s.name] = s.undo;
    return {
      op: { id: r.id, appId: r.app_id, kind: r.kind },
      index: i,
      args: r.steps[i].args,
      done,
      callId: (suffix = "") => `${r.id.slice(0, 20)}-${i}${suffix ? `-${suffix}` : ""}`,
    };
  }

  private async drive(r: Row): Promise<ChainResult> {
    const table = this.table(r.kind);
    let failure: unknown = null;
    let failedStep: string | undefined;
    if (r.state === "pending") r.state = "running";
    while (r.state === "running" && r.current_step < r.steps.length) {
      const i = r.current_step;
      const step = r.steps[i];
      const def = table[step.name.split(":")[0]];
      r.steps[i] = { ...step, state: "started" };
      await this.save(r);
      try {
        if (!def) throw new Error(`no step ${step.name} in chain ${r.kind}`);
        const undo = await def.run(this.ctx(r, i));
        r.steps[i] = { ...r.steps[i], state: "done", undo };
        r.current_step = i + 1;
        await this.save(r);
      } catch (err) {
        failure = err;
        failedStep = step.name;
        const rep = reportOf(err);
        r.state = "rolling_back";
        r.error = {
          kind: rep.kind,
          message: rep.message,
          ...(rep.field ? { field: rep.field } : {}),
          step: step.name,
        };
        await this.save(r);
        this.opts.log?.(
          { op: r.id, step: step.name, error: rep.message },
          "pending operation failed; rolling back",
        );
      }
    }
    if (r.state === "running") {
      r.state = "done";
      await this.save(r);
      return { state: "done", error: null, done: this.ctx(r, 0).done };
    }
    // rolling back: undo every started or done step, last first
    for (let i = Math.min(r.current_step, r.steps.length - 1); i >= 0; i--) {
      const s = r.steps[i];
      if (s.state !== "done" && s.state !== "started") continue;
      const def = table[s.name.split(":")[0]];
      try {
        if (def) await def.undo(this.ctx(r, i), s.state === "done" ? s.undo : null);
        r.steps[i] = { ...s, state: "undone" };
        r.current_step = i;
        await this.save(r);
      } catch (err) {
        const rep = reportOf(err);
        r.state = "failed";
        r.error = { kind: rep.kind, message: `undo of ${s.name} failed: ${rep.message}`, step: s.name };
        await this.save(r);
        this.opts.log?.(
          { op: r.id, step: s.name, error: rep.message },
          "undo failed; the operation is left failed",
        );
        return { state: "failed", error: failure ?? err, done: {}, failedStep, rolledBack: false };
      }
    }
    r.state = "failed";
    await this.save(r);
    return {
      state: "failed",
      error: failure ?? new Error(String((r.error as { message?: string })?.message)),
      done: {},
    };
  }
}
