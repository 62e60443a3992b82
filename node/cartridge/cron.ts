// The node side of the cron cartridge (as OpenShift's oo-cron-run-jobs): the system cron calls
// `geartrain node cartridge cron-run <frequency>` as root (see systemCronFile); for every gear with the cron
// cartridge installed and started, this runs ~/cron/bin/run-jobs <frequency> as the gear through runInGear
// (its cgroup, uid, env), which runs the app's .geartrain/cron/<frequency>/ jobs.

import * as path from "path";
import { ValidationError } from "../../common/errors";
import type { NodeContext } from "../context";
import { gearHome } from "../gear/env";
import { listGears } from "../gear/lifecycle";
import { readMarker } from "../gear/marker";
import { exists } from "../host/fs";
import { runHook } from "./hooks";
import { CRON_FREQUENCIES, type CronFrequency } from "./model";
import { listRecords } from "./records";

/** How long one gear's jobs of a frequency may run before they are killed. */
export const CRON_TIMEOUT_MS: Readonly<Record<CronFrequency, number>> = {
  minutely: 55_000,
  hourly: 20 * 60_000,
  daily: 60 * 60_000,
  weekly: 60 * 60_000,
  monthly: 60 * 60_000,
};

export function validateFrequency(v: unknown): CronFrequency {
  if (typeof v !== "string" || !(CRON_FREQUENCIES as readonly string[]).includes(v))
    throw new ValidationError(
      "frequency",
      `must be one of ${CRON_FREQUENCIES.join(", ")} (got ${JSON.stringify(v)})`,
    );
  return v as CronFrequency;
}

export interface CronRun {
  readonly uuid: string;
  readonly exitCode: number | null;
  readonly output: string;
}

/** Run the jobs of `frequency` in every gear (optionally only `uuids`) that has the cron cartridge started. */
export async function runCronJobs(
  ctx: NodeContext,
  frequencyIn: unknown,
  opts: { uuids?: readonly string[]; concurrency?: number } = {},
): Promise<CronRun[]> {
  const frequency = validateFrequency(frequencyIn);
  const todo: { uuid: string; dir: string }[] = [];
  for (const g of await listGears(ctx)) {
    if (g.phase !== "created" || (opts.uuids && !opts.uuids.includes(g.uuid))) continue;
    const rec = (await listRecords(gearHome(ctx.config, g.uuid))).find(
      (r) => r.name === "cron" && r.phase === "installed" && r.desired === "started",
    );
    if (rec) todo.push({ uuid: g.uuid, dir: rec.dir });
  }
  const out: CronRun[] = [];
  const worker = async () => {
    for (let t = todo.shift(); t; t = todo.shift()) {
      const marker = await readMarker(ctx.config, t.uuid);
      if (!marker) continue;
      const home = gearHome(ctx.config, t.uuid);
      const script = path.join(home, t.dir, "bin", "run-jobs");
      if (!(await exists(script))) continue;
      const records = await listRecords(home);
      try {
        const r = await runHook(
          ctx,
          { uuid: t.uuid, uid: marker.spec.uid, home, spec: marker.spec },
          records,
          t.dir,
          {
            argv: [script, frequency],
            label: `cron ${frequency}`,
            timeoutMs: CRON_TIMEOUT_MS[frequency],
          },
        );
        out.push({ uuid: t.uuid, exitCode: r.code, output: `${r.stdout}${r.stderr}`.trim() });
      } catch (e) {
        out.push({ uuid: t.uuid, exitCode: null, output: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return out.sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
}
