// The node's HTTP frontend: nginx routes by Host header to gears' private endpoints (reference §5.3; OpenShift
// used Apache vhosts, we use nginx). One file per gear, <confDir>/gear-<uuid>.conf, rendered from a validated
// spec; each change is written atomically, checked with `nginx -t` on the whole config and only then
// reloaded, and a change returns once nginx serves it (its old workers no longer accept connections). If
// the check or the reload fails, the previous files are put back and nginx's message is thrown: nothing is
// half-applied. See docs/frontend.md.

import { promises as fs } from "fs";
import * as path from "path";
import { ConflictError, ValidationError } from "../../common/errors";
import { gearAddresses } from "../host/addresses";
import type { NodeContext } from "../context";
import { withFileLock } from "../host/lock";
import { appHostname } from "../gear/env";
import { listMarkers, readMarker } from "../gear/marker";
import type { NodeConfig } from "../types";
import { validateUuid } from "../validate";
import { FrontendError, nginxReload, nginxTest } from "./nginx";
import {
  BASE_FILE,
  GEAR_FILE_PATTERN,
  gearFileName,
  parseSpecLine,
  renderBaseConf,
  renderGearConf,
} from "./render";
import {
  hostnameProblems,
  validateFrontendSpec,
  type GearFrontendSpec,
  type HostnameProblem,
} from "./validate";
import { readText } from "../host/fs";

export type { FrontendRoute, GearFrontendSpec } from "./validate";
export { validateFrontendSpec } from "./validate";
export { FrontendError } from "./nginx";

export function frontendLockPath(config: NodeConfig): string {
  return path.join(config.stateDir, "locks", "frontend.lock");
}

export function gearFrontendPath(config: NodeConfig, uuid: string): string {
  return path.join(config.frontend.confDir, gearFileName(validateUuid(uuid)));
}

/** Atomic replace (temp file in the same dir + fsync + rename); null content removes the file. */
async function put(file: string, content: string | null): Promise<void> {
  if (content === null) {
    await fs.rm(file, { force: true });
    return;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const h = await fs.open(tmp, "w", 0o644);
  try {
    await h.writeFile(content);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}

function ipNumber(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

/** The gear must exist (and not be going away); every backend must be inside its loopback block. */
async function checkGear(ctx: NodeContext, spec: GearFrontendSpec): Promise<void> {
  const marker = await readMarker(ctx.config, spec.gearUuid);
  if (!marker || marker.phase === "destroying") {
    throw new ValidationError(
      "gearUuid",
      `no gear ${spec.gearUuid} on this node${marker ? " (it is being destroyed)" : ""}`,
    );
  }
  const { first, last } = gearAddresses(marker.spec.uid).loopback;
  spec.routes.forEach((r, i) => {
    const n = ipNumber(r.backend.ip);
    if (n < ipNumber(first) || n > ipNumber(last)) {
      throw new ValidationError(
        `routes[${i}].backend.ip`,
        `${r.backend.ip} is not in the gear's private block ${first}-${last}`,
      );
    }
  });
}

/** Every gear's own host name on the node (node/gear/env.ts appHostname) → its uuid; gears being made too. */
async function gearHostnames(ctx: NodeContext): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const uuid of await listMarkers(ctx.config)) {
    const m = await readMarker(ctx.config, uuid).catch(() => null);
    if (m) names.set(appHostname(m.spec.app, m.spec.namespace, ctx.config.cloudDomain), uuid);
  }
  return names;
}

/** The host names of `spec` that are not its gear's to have (hostnameProblems); [] when the gear is gone. */
async function reservedNameProblems(
  ctx: NodeContext,
  spec: GearFrontendSpec,
  names: ReadonlyMap<string, string>,
): Promise<HostnameProblem[]> {
  const marker = await readMarker(ctx.config, spec.gearUuid);
  if (!marker) return [];
  const own = appHostname(marker.spec.app, marker.spec.namespace, ctx.config.cloudDomain);
  return hostnameProblems(spec.hostnames, own, ctx.config.cloudDomain, names);
}

/** Refuse a name that is another gear's own (a conflict) or under the cloud domain (invalid). */
async function checkReservedNames(ctx: NodeContext, spec: GearFrontendSpec): Promise<void> {
  const [p] = await reservedNameProblems(ctx, spec, await gearHostnames(ctx));
  if (!p) return;
  if (p.ownerGear) throw new ConflictError(`${p.field}: ${p.message}`);
  throw new ValidationError(p.field, p.message);
}

/** A route file's host names that are not its gear's (a hijack from before names were reserved), or null. */
export async function gearFrontendNameProblems(ctx: NodeContext, gearUuid: string): Promise<string | null> {
  const spec = await readGearFrontend(ctx, gearUuid).catch(() => null);
  if (!spec) return null;
  const problems = await reservedNameProblems(ctx, spec, await gearHostnames(ctx));
  return problems.length ? problems.map((p) => `${p.field}: ${p.message}`).join("; ") : null;
}

/** Host names must be unique on the node: another gear's name or alias is a conflict. */
async function checkHostnames(ctx: NodeContext, spec: GearFrontendSpec): Promise<void> {
  const mine = new Set(spec.hostnames);
  for (const uuid of await listGearFrontends(ctx)) {
    if (uuid === spec.gearUuid) continue;
    const other = await readGearFrontend(ctx, uuid).catch(() => null);
    const taken = other?.hostnames.find((h) => mine.has(h));
    if (taken) throw new ConflictError(`host name ${taken} is already routed to gear ${uuid}`);
  }
}

/**
 * Write files (path → content, null = remove), validate with nginx -t and reload. On any failure the
 * previous contents are restored and the error (nginx's message) is thrown.
 */
async function apply(
  ctx: NodeContext,
  changes: ReadonlyMap<string, string | null>,
  opts: { allowNotRunning: boolean },
): Promise<void> {
  const fe = ctx.config.frontend;
  const previous = new Map<string, string | null>();
  for (const f of changes.keys()) previous.set(f, await readText(f));
  const restore = async () => {
    for (const [f, c] of previous) await put(f, c);
  };
  try {
    for (const [f, c] of changes) await put(f, c);
  } catch (e) {
    await restore();
    throw e;
  }
  const bad = await nginxTest(fe);
  if (bad !== null) {
    await restore();
    throw new FrontendError(`nginx rejected the configuration (previous files restored): ${bad}`);
  }
  const r = await nginxReload(fe);
  if (!r.ok && !(opts.allowNotRunning && r.notRunning)) {
    await restore();
    // signalled but not switched (yet): make nginx load the restored files, whatever it did with ours
    if (r.switched === false) await nginxReload(fe, { switchTimeoutMs: 0 });
    throw new FrontendError(`nginx reload failed (previous files restored): ${r.message}`);
  }
}

/** Route the gear's host names to its endpoints (or, idle, to the unidler). Idempotent. */
export async function setGearFrontend(ctx: NodeContext, input: GearFrontendSpec): Promise<void> {
  const spec = validateFrontendSpec(input);
  const fe = ctx.config.frontend;
  const file = gearFrontendPath(ctx.config, spec.gearUuid);
  const base = path.join(fe.confDir, BASE_FILE);
  await withFileLock(frontendLockPath(ctx.config), async () => {
    await checkGear(ctx, spec);
    await checkReservedNames(ctx, spec);
    await checkHostnames(ctx, spec);
    const changes = new Map<string, string>();
    const wantBase = renderBaseConf(fe);
    if ((await readText(base)) !== wantBase) changes.set(base, wantBase);
    const want = renderGearConf(spec, fe);
    if ((await readText(file)) !== want) changes.set(file, want);
    if (changes.size === 0) return;
    await fs.mkdir(fe.confDir, { recursive: true, mode: 0o755 });
    await apply(ctx, changes, { allowNotRunning: false });
  });
}

/** What syncGearFrontends did: gear files rewritten, gear files already current, files it could not read. */
export interface FrontendSyncResult {
  readonly rewritten: readonly string[];
  readonly unchanged: readonly string[];
  /** gear uuid → why its file was left as it is (a damaged or foreign spec line: see the node check) */
  readonly damaged: Readonly<Record<string, string>>;
}

/**
 * Render the base file and every gear's file again from its stored spec under the current config (after
 * the frontend config changed: `tls` turned on or off, another listen address), then `nginx -t` and reload,
 * always, so that a certificate or key replaced at the same path is served too. All or nothing: if nginx
 * refuses the result, every file is put back. nginx not running: the files stand (it reads them on start).
 */
export async function syncGearFrontends(ctx: NodeContext): Promise<FrontendSyncResult> {
  const fe = ctx.config.frontend;
  const base = path.join(fe.confDir, BASE_FILE);
  return withFileLock(frontendLockPath(ctx.config), async () => {
    const changes = new Map<string, string>();
    const rewritten: string[] = [];
    const unchanged: string[] = [];
    const damaged: Record<string, string> = {};
    for (const uuid of await listGearFrontends(ctx)) {
      let spec: GearFrontendSpec | null;
      try {
        spec = await readGearFrontend(ctx, uuid);
      } catch (e) {
        damaged[uuid] = (e as Error).message;
        continue;
      }
      if (!spec) continue;
      const file = gearFrontendPath(ctx.config, uuid);
      const want = renderGearConf(spec, fe);
      if ((await readText(file)) === want) unchanged.push(uuid);
      else {
        changes.set(file, want);
        rewritten.push(uuid);
      }
    }
    const wantBase = renderBaseConf(fe);
    if ((await readText(base)) !== wantBase) changes.set(base, wantBase);
    await fs.mkdir(fe.confDir, { recursive: true, mode: 0o755 });
    await apply(ctx, changes, { allowNotRunning: true });
    return { rewritten, unchanged, damaged };
  });
}

/** Stop routing the gear (delete its file, reload). A gear without a frontend is a success. */
export async function removeGearFrontend(ctx: NodeContext, gearUuid: string): Promise<void> {
  const file = gearFrontendPath(ctx.config, gearUuid);
  if ((await readText(file)) === null) return;
  await withFileLock(frontendLockPath(ctx.config), async () => {
    if ((await readText(file)) === null) return;
    // nginx not running: nothing serves the route, so the removal stands
    await apply(ctx, new Map([[file, null]]), { allowNotRunning: true });
  });
}

/** The gear's spec as stored in its file (canonical), or null when it has none. */
export async function readGearFrontend(ctx: NodeContext, gearUuid: string): Promise<GearFrontendSpec | null> {
  const file = gearFrontendPath(ctx.config, gearUuid);
  const text = await readText(file);
  if (text === null) return null;
  let doc: unknown;
  try {
    doc = parseSpecLine(text);
  } catch (e) {
    throw new FrontendError(`${file}: damaged spec line: ${(e as Error).message}`);
  }
  if (doc === null)
    throw new FrontendError(`${file}: no "# geartrain-spec" line (not written by Geartrain?)`);
  let spec: GearFrontendSpec;
  try {
    spec = validateFrontendSpec(doc);
  } catch (e) {
    throw new FrontendError(`${file}: invalid spec line: ${(e as Error).message}`);
  }
  if (spec.gearUuid !== gearUuid) throw new FrontendError(`${file}: spec is for gear ${spec.gearUuid}`);
  return spec;
}

/** Gear uuids that have a frontend file, sorted. */
export async function listGearFrontends(ctx: NodeContext): Promise<string[]> {
  const names = await fs.readdir(ctx.config.frontend.confDir).catch(() => [] as string[]);
  return names
    .map((n) => GEAR_FILE_PATTERN.exec(n)?.[1])
    .filter((u): u is string => !!u)
    .sort();
}

/** Differences between a gear's file and what its stored spec renders to under the current config. */
export async function gearFrontendDrift(ctx: NodeContext, gearUuid: string): Promise<string | null> {
  const file = gearFrontendPath(ctx.config, gearUuid);
  const text = await readText(file);
  if (text === null) return null;
  let spec: GearFrontendSpec;
  try {
    const s = await readGearFrontend(ctx, gearUuid);
    if (!s) return null;
    spec = s;
  } catch (e) {
    return (e as Error).message;
  }
  return text === renderGearConf(spec, ctx.config.frontend)
    ? null
    : `${file} differs from its rendered spec (edited by hand, or the frontend config changed): set it again`;
}

export { nginxTest } from "./nginx";
