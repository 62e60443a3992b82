// The pending-operation engine: drives a chain of named steps over pending-ops.ts, each step done by its
// StepDef and undone by its undo, in order. Progress is written before and after every step (fenced by the
// lease), so after a crash whichever broker claims the chain goes on: a chain that was going forward goes on
// forward from the step that was under way (so every step must be idempotent: node calls carry the step's
// stable callId and node operations converge), or, with `resume: "rollback"`, is undone; one that was
// rolling back goes on undoing. A step that fails rolls the chain back in reverse, undoing every step that
// was done or had started (its undo gets null undo data then). An undo that fails is recorded and the earlier
// steps are still undone; the chain ends `failed` with every error, for `geartrain check` to report. While a
// step runs, its lease is renewed every third of the lease; a broker that lost its lease stops at its next
// write (LeaseLostError) and leaves the chain alone.

import { reportOf } from "../../../common/errors";
import type { Json, OpError, OpStep, PendingOp } from "../model/types";
import type { Queryable } from "./db";
import { claimNextOp, insertOp, LeaseLostError, renewLease, saveOp, type OpProgress } from "./pending-ops";

export interface StepCtx {
  readonly op: { readonly id: string; readonly appId: string | null; readonly kind: string };
  readonly index: number;
  readonly name: string;
  readonly args: Json;
  /** the undo data of the steps done so far, by step name */
  readonly done: Readonly<Record<string, Json>>;
  /** an id for this step's node calls, the same on every retry by any broker (an idempotency key) */
  readonly callId: (suffix?: string) => string;
}

export interface StepDef {
  /** does the step; resolves to what its undo (and later steps, through ctx.done) need */
  run(ctx: StepCtx): Promise<Json>;
  /** undoes it; `undo` is null when the step had started but was not recorded as done */
  undo(ctx: StepCtx, undo: Json): Promise<void>;
}

export type StepTable = Readonly<Record<string, StepDef>>;

export interface ChainResult {
  readonly op: PendingOp;
  /** done: every step done; failed: rolled back (or an undo failed: op.error says) */
  readonly state: "done" | "failed";
  /** what made the chain fail (the step's own error), or null */
  readonly error: unknown;
  readonly done: Readonly<Record<string, Json>>;
}

export interface EngineOptions {
  /** this broker's id (claimed_by) */
  readonly owner: string;
  /** how long a claim lasts without a write or heartbeat */
  readonly leaseMs: number;
  /** the step table of a chain kind (steps are looked up by name; `name:suffix` uses `name`'s def) */
  readonly steps: (kind: string) => StepTable;
  /** what a broker does with a chain found going forward: go on (default) or undo it */
  readonly resume?: "forward" | "rollback";
  readonly log?: (fields: Record<string, unknown>, msg: string) => void;
}

interface Live {
  id: string;
  appId: string | null;
  kind: string;
  steps: OpStep[];
  currentStep: number;
  state: PendingOp["state"];
  error: OpError | null;
}

export class OpEngine {
  constructor(
    private readonly db: Queryable,
    private readonly opts: EngineOptions,
  ) {}

  /** Records a new chain, claimed by this broker, and drives it to its end. */
  async start(
    kind: string,
    appId: string | null,
    steps: readonly { name: string; args?: Json }[],
    opts: { id?: string } = {},
  ): Promise<ChainResult> {
    const op = await insertOp(this.db, {
      kind,
      appId,
      steps,
      owner: this.opts.owner,
      leaseMs: this.opts.leaseMs,
      ...(opts.id ? { id: opts.id } : {}),
    });
    return this.drive(op, "forward");
  }

  /**
   * Claims every open chain whose lease ran out (or that nobody holds) and drives each to its end;
   * resolves to the results. Run it at start-up and now and then: concurrent brokers take different chains.
   */
  async resumeAbandoned(opts: { kinds?: readonly string[] } = {}): Promise<ChainResult[]> {
    const results: ChainResult[] = [];
    for (;;) {
      const op = await claimNextOp(this.db, this.opts.owner, this.opts.leaseMs, opts);
      if (!op) return results;
      this.opts.log?.(
        { op: op.id, kind: op.kind, state: op.state, step: op.currentStep },
        "resuming a pending op",
      );
      try {
        results.push(await this.drive(op, this.opts.resume ?? "forward"));
      } catch (err) {
        if (!(err instanceof LeaseLostError)) throw err;
      }
    }
  }

  private ctx(c: Live, i: number): StepCtx {
    const done: Record<string, Json> = {};
    for (const s of c.steps) if (s.state === "done") done[s.name] = s.undo;
    return {
      op: { id: c.id, appId: c.appId, kind: c.kind },
      index: i,
      name: c.steps[i].name,
      args: c.steps[i].args,
      done,
      callId: (suffix = "") => `${c.id}-${i}${suffix ? `-${suffix}` : ""}`,
    };
  }

  private async save(c: Live): Promise<PendingOp> {
    const p: OpProgress = { steps: c.steps, currentStep: c.currentStep, state: c.state, error: c.error };
    return saveOp(this.db, c.id, this.opts.owner, this.opts.leaseMs, p);
  }

  /** Runs fn while renewing the lease every third of it; a lost lease surfaces at the next save. */
  private async withHeartbeat<T>(c: Live, fn: () => Promise<T>): Promise<T> {
    let lost = false;
    const timer = setInterval(
      () => {
        renewLease(this.db, c.id, this.opts.owner, this.opts.leaseMs).catch(() => {
          lost = true;
        });
      },
      Math.max(50, Math.floor(this.opts.leaseMs / 3)),
    );
    try {
      return await fn();
    } finally {
      clearInterval(timer);
      if (lost) this.opts.log?.({ op: c.id }, "lost the lease of a pending op while a step ran");
    }
  }

  private def(c: Live, i: number): StepDef {
    const name = c.steps[i].name.split(":")[0];
    const def = this.opts.steps(c.kind)[name];
    if (!def) throw new Error(`no step '${name}' in chains of kind '${c.kind}'`);
    return def;
  }

  private async drive(op: PendingOp, resume: "forward" | "rollback"): Promise<ChainResult> {
    const c: Live = {
      id: op.id,
      appId: op.appId,
      kind: op.kind,
      steps: op.steps.map((s) => ({ ...s })),
      currentStep: op.currentStep,
      state: op.state === "pending" ? "running" : op.state,
      error: op.error,
    };
    let failure: unknown = null;
    if (c.state === "running" && resume === "rollback" && c.steps.some((s) => s.state !== "pending")) {
      // found going forward after its broker stopped, and this engine undoes such chains
      c.state = "rolling_back";
      c.error = { kind: "failed", message: "the broker running it stopped; rolled back on resume" };
      await this.save(c);
    }
    while (c.state === "running" && c.currentStep < c.steps.length) {
      const i = c.currentStep;
      c.steps[i] = { ...c.steps[i], state: "started" };
      await this.save(c);
      try {
        const def = this.def(c, i);
        const undo = await this.withHeartbeat(c, () => def.run(this.ctx(c, i)));
        c.steps[i] = { ...c.steps[i], state: "done", undo: undo ?? null };
        c.currentStep = i + 1;
        await this.save(c);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        failure = err;
        const rep = reportOf(err);
        c.state = "rolling_back";
        c.error = {
          kind: rep.kind,
          message: rep.message,
          ...(rep.field ? { field: rep.field } : {}),
          step: c.steps[i].name,
        };
        this.opts.log?.(
          { op: c.id, step: c.steps[i].name, kind: rep.kind },
          "pending op step failed; rolling back",
        );
        await this.save(c);
      }
    }
    if (c.state === "running") {
      c.state = "done";
      const saved = await this.save(c);
      return { op: saved, state: "done", error: null, done: this.ctx(c, 0).done };
    }
    // rolling back: undo every step that was done or had started, last first. An undo that fails does not
    // stop the others (a refused DNS key must not leave the gear and its UID held): the chain ends `failed`
    // with every failed undo named, and that step stays as it was, for `geartrain check` to report.
    const failedUndos: { step: string; kind: string; message: string }[] = [];
    for (let i = c.steps.length - 1; i >= 0; i--) {
      const s = c.steps[i];
      if (s.state !== "done" && s.state !== "started") continue;
      c.currentStep = i;
      try {
        const def = this.def(c, i);
        await this.withHeartbeat(c, () => def.undo(this.ctx(c, i), s.state === "done" ? s.undo : null));
        c.steps[i] = { ...s, state: "undone" };
        await this.save(c);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        const rep = reportOf(err);
        failedUndos.push({ step: s.name, kind: rep.kind, message: rep.message });
        this.opts.log?.(
          { op: c.id, step: s.name, kind: rep.kind },
          "pending op undo failed; undoing the rest",
        );
        failure ??= err;
      }
    }
    if (failedUndos.length) {
      c.error = {
        kind: c.error?.kind ?? failedUndos[0].kind,
        message: `${c.error?.message ?? "rolled back"}; ${failedUndos
          .map((u) => `undo of ${u.step} failed: ${u.message}`)
          .join("; ")}`,
        step: failedUndos[0].step,
      };
    }
    c.state = "failed";
    c.currentStep = 0;
    const saved = await this.save(c);
    return { op: saved, state: "failed", error: failure, done: {} };
  }
}
