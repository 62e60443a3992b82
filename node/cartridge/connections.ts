// Publish/subscribe between the cartridges of an application (reference §6.6), for the gears of the app on
// this node: the gears with the same application id (node/gear/application.ts; never joined by name, and a
// gear without an id is alone). A publisher's hooks/<event> runs as its gear with `<app> <namespace> <uuid>`
// and prints its publication. ENV: publications are `NAME=VALUE` lines in the publisher's <P><SHORT>_*
// namespace; every cartridge subscribing with a matching Type gets them as files in its gear's ~/.env
// (root:gear 0640).
// Other subscriptions run the subscriber's hooks/<event> with the publishers' output as a 4th argument.
// Each gear's received variables are tracked in ~/.geartrain/connections.json and converged: stale ones are
// removed, changed ones rewritten, so the same call fixes installs and removals alike.

import * as path from "path";
import type { NodeContext } from "../context";
import { gearHome } from "../gear/env";
import { listGears } from "../gear/lifecycle";
import { withFileLock } from "../host/lock";
import { GearNotFoundError, lockPath, readMarker } from "../gear/marker";
import { sameApplication } from "../gear/application";
import type { GearSpec } from "../types";
import { exists } from "../host/fs";
import { readNodeFile, removeRootFile, writeRootFile } from "../host/gear-fs";
import type { GearRef } from "../gear/ref";
import { validateUuid } from "../validate";
import { HookError, runHook } from "./hooks";
import { connectionMatches, EVENT_PATTERN, parsePublishedEnv } from "./model";
import { listRecords, readConnections, writeConnections, type CartridgeRecord } from "./records";

export interface Publication {
  readonly uuid: string;
  readonly dir: string;
  readonly shortName: string;
  readonly event: string;
  readonly type: string;
  /** hook stdout; null when the hook failed or is missing */
  readonly output: string | null;
  readonly error?: string;
}

export interface ConnectProblem {
  readonly uuid: string;
  readonly dir: string;
  readonly message: string;
}

export interface AppGear {
  readonly ref: GearRef;
  readonly records: readonly CartridgeRecord[];
}

/**
 * The created gears of the application of the gear with `spec` on this node (itself included) with their
 * installed cartridge records: the gears with its application id, or only itself when it has none.
 */
export async function appGears(ctx: NodeContext, spec: GearSpec): Promise<AppGear[]> {
  const out: AppGear[] = [];
  for (const g of await listGears(ctx)) {
    if (g.phase !== "created" || !sameApplication(spec, { uuid: g.uuid, appUuid: g.appUuid ?? undefined }))
      continue;
    const marker = await readMarker(ctx.config, g.uuid);
    if (!marker) continue;
    const home = gearHome(ctx.config, g.uuid);
    const records = (await listRecords(home)).filter((r) => r.phase === "installed");
    out.push({ ref: { uuid: g.uuid, uid: marker.spec.uid, home, spec: marker.spec }, records });
  }
  return out;
}

/** Run every publisher hook of the app's cartridges (no locks: records are read atomically). */
export async function collectPublications(
  ctx: NodeContext,
  gears: readonly AppGear[],
  timeoutMs = 60_000,
): Promise<Publication[]> {
  const out: Publication[] = [];
  for (const g of gears) {
    for (const r of g.records) {
      for (const [event, c] of Object.entries(r.manifest.Publishes ?? {}).sort(([a], [b]) =>
        a < b ? -1 : 1,
      )) {
        const base = { uuid: g.ref.uuid, dir: r.dir, shortName: r.shortName, event, type: c.Type };
        if (!EVENT_PATTERN.test(event)) {
          out.push({ ...base, output: null, error: `bad event name ${JSON.stringify(event)}` });
          continue;
        }
        const hook = path.join(g.ref.home, r.dir, "hooks", event);
        if (!(await exists(hook))) {
          out.push({ ...base, output: null, error: `hooks/${event} is missing` });
          continue;
        }
        try {
          const res = await runHook(ctx, g.ref, g.records, r.dir, {
            argv: [hook, g.ref.spec.app, g.ref.spec.namespace, g.ref.uuid],
            label: `hooks/${event}`,
            timeoutMs,
          });
          if (res.code !== 0) {
            out.push({ ...base, output: null, error: new HookError(r.dir, `hooks/${event}`, res).message });
          } else out.push({ ...base, output: res.stdout });
        } catch (e) {
          out.push({ ...base, output: null, error: (e as Error).message });
        }
      }
    }
  }
  return out;
}

export interface ReceiveResult {
  /** variables now received (sorted) */
  readonly vars: string[];
  readonly problems: ConnectProblem[];
}

/**
 * Converge one gear's received connections to `publications` (caller holds the gear's lock): ~/.env files
 * for ENV: subscriptions, subscriber hooks for the others (run again only when their input changed).
 */
export async function applyReceived(
  ctx: NodeContext,
  g: GearRef,
  records: readonly CartridgeRecord[],
  publications: readonly Publication[],
  timeoutMs = 60_000,
): Promise<ReceiveResult> {
  const prefix = ctx.config.envPrefix;
  const problems: ConnectProblem[] = [];
  const want: Record<string, { value: string; from: string }> = {};
  const hookInputs: Record<string, { dir: string; event: string; input: string }> = {};
  for (const sub of records) {
    for (const [event, s] of Object.entries(sub.manifest.Subscribes ?? {}).sort(([a], [b]) =>
      a < b ? -1 : 1,
    )) {
      const matching = publications.filter(
        (p) => connectionMatches(p.type, s.Type) && !(p.uuid === g.uuid && p.dir === sub.dir),
      );
      if (s.Type.startsWith("ENV:")) {
        for (const p of matching) {
          if (!p.type.startsWith("ENV:") || p.output === null) continue;
          const parsed = parsePublishedEnv(p.output, p.shortName, prefix);
          for (const m of parsed.problems)
            problems.push({ uuid: p.uuid, dir: p.dir, message: `hooks/${p.event}: ${m}` });
          for (const [k, v] of Object.entries(parsed.vars))
            want[k] = { value: v, from: `${p.uuid}/${p.dir}` };
        }
      } else if (EVENT_PATTERN.test(event) && matching.length > 0) {
        const hook = path.join(g.home, sub.dir, "hooks", event);
        if (!(await exists(hook))) continue;
        const input = matching
          .filter((p) => p.output !== null)
          .map((p) => p.output!.trim())
          .join(" ");
        hookInputs[`${sub.dir}/${event}`] = { dir: sub.dir, event, input };
      }
    }
  }
  const current = await readConnections(g.home);
  const envDir = path.join(g.home, ".env");
  const vars: Record<string, string> = {};
  for (const [name, w] of Object.entries(want).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const file = path.join(envDir, name);
    const mine = name in current.vars;
    if (!mine && (await exists(file))) {
      // the publisher is in this gear: the node already wrote its own variables here
      const same = (await readNodeFile(file, { owners: [0] }).catch(() => null)) === w.value;
      if (same && records.some((r) => name in r.env)) continue;
      problems.push({
        uuid: w.from.slice(0, 32),
        dir: w.from.slice(33),
        message: `${name} is already set in gear ${g.uuid} by the node; not overwritten`,
      });
      continue;
    }
    const cur = await readNodeFile(file, { owners: [0] }).catch(() => null);
    if (cur !== w.value) await writeRootFile(file, w.value, 0o640, 0, g.uid);
    vars[name] = w.from;
  }
  for (const name of Object.keys(current.vars)) {
    if (!(name in vars)) await removeRootFile(path.join(envDir, name));
  }
  const hooks: Record<string, string> = {};
  for (const [key, h] of Object.entries(hookInputs)) {
    if (current.hooks[key] === h.input) {
      hooks[key] = h.input;
      continue;
    }
    const res = await runHook(ctx, g, records, h.dir, {
      argv: [path.join(g.home, h.dir, "hooks", h.event), g.spec.app, g.spec.namespace, g.uuid, h.input],
      label: `hooks/${h.event}`,
      timeoutMs,
    }).catch((e: Error) => e);
    if (res instanceof Error) problems.push({ uuid: g.uuid, dir: h.dir, message: res.message });
    else if (res.code !== 0)
      problems.push({
        uuid: g.uuid,
        dir: h.dir,
        message: new HookError(h.dir, `hooks/${h.event}`, res).message,
      });
    else hooks[key] = h.input;
  }
  await writeConnections(g.home, g.uid, { vars, hooks });
  return { vars: Object.keys(vars).sort(), problems };
}

export interface ConnectResult {
  readonly app: string;
  readonly namespace: string;
  /** the application id the gears were joined by (null: the gear has none and is alone) */
  readonly appUuid: string | null;
  readonly gears: number;
  readonly publications: { uuid: string; dir: string; event: string; type: string; ok: boolean }[];
  /** uuid → variables received */
  readonly received: Record<string, string[]>;
  readonly problems: ConnectProblem[];
}

/** Converge the connections of every gear of the application of the gear with `spec` on this node. */
export async function connectApp(ctx: NodeContext, spec: GearSpec): Promise<ConnectResult> {
  const gears = await appGears(ctx, spec);
  const publications = await collectPublications(ctx, gears);
  const problems: ConnectProblem[] = publications
    .filter((p) => p.error)
    .map((p) => ({ uuid: p.uuid, dir: p.dir, message: p.error! }));
  const received: Record<string, string[]> = {};
  for (const g of gears) {
    await withFileLock(lockPath(ctx.config, g.ref.uuid), async () => {
      const marker = await readMarker(ctx.config, g.ref.uuid);
      if (marker?.phase !== "created") return;
      const records = (await listRecords(g.ref.home)).filter((r) => r.phase === "installed");
      const r = await applyReceived(ctx, g.ref, records, publications);
      received[g.ref.uuid] = r.vars;
      problems.push(...r.problems);
    });
  }
  return {
    app: spec.app,
    namespace: spec.namespace,
    appUuid: spec.appUuid ?? null,
    gears: gears.length,
    publications: publications.map((p) => ({
      uuid: p.uuid,
      dir: p.dir,
      event: p.event,
      type: p.type,
      ok: p.output !== null,
    })),
    received,
    problems,
  };
}

/** Converge the publish/subscribe connections of the app the gear belongs to. */
export async function connectGearApp(ctx: NodeContext, uuidIn: unknown): Promise<ConnectResult> {
  const uuid = validateUuid(uuidIn);
  const marker = await readMarker(ctx.config, uuid);
  if (!marker) throw new GearNotFoundError(uuid);
  return connectApp(ctx, marker.spec);
}
