// The step table of the broker-store chain tests, shared by the test (the broker that takes over) and
// chain-worker.ts (the broker that is killed): reserve a UID for the gear → mark the node seen → a step
// that hangs (in the killed broker) or fails (when told to) → record the gear.

import type { Queryable } from "../../../services/broker/store/db";
import { releaseUidsOf, reserveUid } from "../../../services/broker/store/districts";
import { markSeen } from "../../../services/broker/store/nodes";
import type { StepTable } from "../../../services/broker/store/op-engine";

export interface ChainArgs {
  districtId: string;
  gearId: string;
  node: string;
}

export function chainSteps(
  db: Queryable,
  behaviour: {
    slow?: "hang" | "fail" | "pass";
    /** the slow step's undo fails too (a DNS remove signed with the same refused key) */
    slowUndoFails?: boolean;
    onSlow?: () => void;
    undone?: string[];
  },
): StepTable {
  const undone = behaviour.undone ?? [];
  return {
    reserve: {
      run: async (ctx) => {
        const a = ctx.args as unknown as ChainArgs;
        return { uid: await reserveUid(db, a.districtId, a.gearId) };
      },
      undo: async (ctx) => {
        undone.push(ctx.name);
        await releaseUidsOf(db, (ctx.args as unknown as ChainArgs).gearId);
      },
    },
    seen: {
      run: async (ctx) => {
        await markSeen(db, (ctx.args as unknown as ChainArgs).node);
        return null;
      },
      undo: async (ctx) => {
        undone.push(ctx.name);
      },
    },
    slow: {
      run: async () => {
        behaviour.onSlow?.();
        if (behaviour.slow === "hang") await new Promise(() => undefined);
        if (behaviour.slow === "fail") throw new Error("the node refused");
        return "slow-done";
      },
      undo: async (ctx, undo) => {
        if (behaviour.slowUndoFails) throw new Error("the node refused the undo too");
        undone.push(`${ctx.name}:${JSON.stringify(undo)}`);
      },
    },
    record: {
      run: async (ctx) => ({ recorded: (ctx.done.reserve as { uid: number }).uid }),
      undo: async (ctx) => {
        undone.push(ctx.name);
      },
    },
  };
}

export const chainOf = (a: ChainArgs) =>
  ["reserve", "seen", "slow", "record"].map((name) => ({
    name,
    args: a as unknown as Record<string, string>,
  }));
