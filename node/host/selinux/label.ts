// SELinux labels of gears: detect SELinux, label a gear's home with the gear file type at the gear's MCS level
// (chcon, no dereference), read file and process labels back, and compute the exec context gear processes
// get. The policy that gives these types meaning is the gear module in this directory (policy.ts).
// Where SELinux is absent the gear state says selinux "unavailable"; nothing pretends to be labelled.

import { closeSync, constants, openSync, promises as fs, writeSync } from "fs";
import { fieldDrift } from "../../drift";
import { run, runOk } from "../exec";
import { isSshdProcess } from "../ssh-session";
import type { Drift, SelinuxStatus } from "../../types";

/** The gear domain and file type (geartrain.te). */
export const GEAR_DOMAIN = "geartrain_gear_t";
/** The domain of the git forced command's relay stage (geartrain.te: entered only by executing bin/gear-shell). */
export const RELAY_DOMAIN = "geartrain_relay_t";

export const GEAR_FILE_TYPE = "geartrain_gear_file_t";
/** Roles the module authorizes for the gear domain; another caller role falls back to system_r. */
export const GEAR_ROLES: readonly string[] = ["system_r", "unconfined_r"];
/** Drift entries listed per gear for mislabelled files (the count is always exact). */
export const MAX_LABEL_DRIFT = 20;

export async function selinuxStatus(root = "/sys/fs/selinux"): Promise<SelinuxStatus> {
  const v = await fs.readFile(`${root}/enforce`, "utf8").catch(() => null);
  if (v === null) return "unavailable";
  return v.trim() === "1" ? "enforcing" : "permissive";
}

export interface ParsedContext {
  readonly user: string;
  readonly role: string;
  readonly type: string;
  /** "s0:c1,c2" or a range "s0-s0:c0.c1023" */
  readonly range: string;
}

/** "user:role:type:s0:c1,c2" → its parts; null when it is not a full context. */
export function parseContext(context: string): ParsedContext | null {
  const parts = context.trim().replace(/\0+$/, "").split(":");
  if (parts.length < 4 || parts.slice(0, 3).some((p) => !/^[A-Za-z0-9_]+$/.test(p))) return null;
  const range = parts.slice(3).join(":");
  if (!/^s0(:c[0-9.,c]+)?(-s0(:c[0-9.,c]+)?)?$/.test(range)) return null;
  return { user: parts[0], role: parts[1], type: parts[2], range };
}

/** The MCS range part of a context "user:role:type:s0:c1,c2" → "s0:c1,c2". */
export function rangeOf(context: string): string {
  return context.split(":").slice(3).join(":");
}

/** The full context of every file in a gear home: system_u:object_r:geartrain_gear_file_t:<label>. */
export function gearFileContext(label: string): string {
  return `system_u:object_r:${GEAR_FILE_TYPE}:${label}`;
}

/**
 * The exec context of a gear process started by a process in `current`: the caller's SELinux user and role
 * (so no identity change is needed), the gear domain, and the gear's level (low = high = its categories).
 */
export function gearExecContext(current: string, label: string): string {
  const c = parseContext(current);
  if (!c)
    throw new Error(
      `cannot start a gear process: this process's SELinux context ${JSON.stringify(current)} is not a full context`,
    );
  const role = GEAR_ROLES.includes(c.role) ? c.role : "system_r";
  return `${c.user}:${role}:${GEAR_DOMAIN}:${label}`;
}

/** This process's own context (/proc/self/attr/current). */
export async function currentContext(): Promise<string> {
  return (await fs.readFile("/proc/self/attr/current", "utf8")).replace(/\0+$/, "").trim();
}

/** Set the gear type and MCS level on the whole home tree (chcon -R -h: symlinks themselves, none followed). */
export async function labelTree(home: string, label: string): Promise<void> {
  await runOk(["chcon", "-R", "-h", "--", gearFileContext(label), home]);
}

/** Read the full context of a path (`stat -c %C`); null when unavailable. */
export async function readLabel(p: string): Promise<string | null> {
  const r = await run(["stat", "-c", "%C", "--", p]);
  if (r.code !== 0) return null;
  const ctx = r.stdout.trim();
  return ctx === "?" || ctx === "" ? null : ctx;
}

/** Whether a file context is the gear file type at `label` (its SELinux user and role do not matter). */
export function isGearFileContext(context: string, label: string): boolean {
  const c = parseContext(context);
  return c !== null && c.type === GEAR_FILE_TYPE && c.range === label;
}

/**
 * Every path under `home` (home included, symlinks not followed) that is not the gear file type at `label`,
 * read in one `find -printf '%Z'` walk. Returns their count and the first MAX_LABEL_DRIFT as [path, context].
 * Files a gear creates carry its process's SELinux user (unconfined_u or system_u): only type and level count.
 */
export async function mislabelledFiles(
  home: string,
  label: string,
): Promise<{ count: number; first: [string, string][] }> {
  const r = await run(["find", home, "-xdev", "-printf", "%Z\\t%p\\0"], { timeoutMs: 300_000 });
  if (r.code !== 0 && r.stdout === "")
    throw new Error(`cannot read the labels under ${home}: ${r.stderr.trim()}`);
  return parseFindLabels(r.stdout, label);
}

/** `find -printf '%Z\t%p\0'` output → the paths not at the gear file type and `label` (unlabelled: "?"). */
export function parseFindLabels(out: string, label: string): { count: number; first: [string, string][] } {
  let count = 0;
  const first: [string, string][] = [];
  for (const rec of out.split("\0")) {
    if (rec === "") continue;
    const tab = rec.indexOf("\t");
    const ctx = rec.slice(0, tab);
    const p = rec.slice(tab + 1);
    if (isGearFileContext(ctx, label)) continue;
    count++;
    if (first.length < MAX_LABEL_DRIFT) first.push([p, ctx === "" ? "?" : ctx]);
  }
  return { count, first };
}

/** The drift of a gear's files: the home's own range (selinux.label) and every file not at the gear context. */
export async function readLabelDrift(
  home: string,
  label: string,
): Promise<{ applied: string | null; mislabelled: number; drift: Drift[] }> {
  const c = await readLabel(home);
  const applied = c ? rangeOf(c) : null;
  const drift: Drift[] = [...fieldDrift("selinux.label", label, applied)];
  const want = `${GEAR_FILE_TYPE}:${label}`;
  const bad = await mislabelledFiles(home, label);
  for (const [p, ctx] of bad.first) drift.push({ field: `selinux.file:${p}`, expected: want, actual: ctx });
  if (bad.count > bad.first.length)
    drift.push({
      field: "selinux.files",
      expected: `all at ${want}`,
      actual: `${bad.count} mislabelled (first ${bad.first.length} listed)`,
    });
  return { applied, mislabelled: bad.count, drift };
}

/** The context of a live process (/proc/<pid>/attr/current); null when it is gone or unreadable. */
export async function processContext(pid: number): Promise<string | null> {
  const v = await fs.readFile(`/proc/${pid}/attr/current`, "utf8").catch(() => null);
  return v === null ? null : v.replace(/\0+$/, "").trim();
}

/** Drift of one gear process: it must run in the gear domain at exactly the gear's level. */
export function processLabelDrift(pid: number, context: string | null, label: string): Drift[] {
  const c = context ? parseContext(context) : null;
  if (c && c.type === GEAR_DOMAIN && c.range === label) return [];
  return [{ field: `selinux.process:${pid}`, expected: `${GEAR_DOMAIN}:${label}`, actual: context ?? "?" }];
}

/**
 * The two processes of the gear's uid a git push session runs outside the gear domain by design
 * (docs/node-operations.md, "git push: why two stages"): "relay", the forced command's relay stage, known by
 * its domain (only executing bin/gear-shell enters it); "ssh-session", sshd's per-session process
 * (`sshd: <uuid>@notty`), in sshd's domain and running sshd itself.
 */
export type SessionRole = "relay" | "ssh-session";

/**
 * What one process of the gear's uid is, from its context and (for a process outside the gear domain) the
 * program it runs (`/proc/<pid>/exe`; null: unread): a gear process in the gear domain at the gear's level
 * (role null, no drift), one of the push session's expected processes (its role, no drift), or anything else
 * (role null, `selinux.process` drift).
 */
export function classifyGearProcess(
  pid: number,
  context: string | null,
  exe: string | null,
  label: string,
): { role: SessionRole | null; drift: Drift[] } {
  const c = context ? parseContext(context) : null;
  if (c?.type === RELAY_DOMAIN) return { role: "relay", drift: [] };
  if (c !== null && isSshdProcess(exe, c.type)) return { role: "ssh-session", drift: [] };
  return { role: null, drift: processLabelDrift(pid, context, label) };
}

/**
 * The context for the sockets this thread creates next (/proc/thread-self/attr/sockcreate): `context`'s user,
 * role and type at level s0; null restores the default (the process's own context). Node makes a child's
 * stdio as Unix socket pairs in the calling thread during spawn(): made at the node's range (s0-s0:c0.c1023)
 * a gear process at s0:cX,cY could not read or write them (MCS: its level does not dominate the socket's);
 * at s0 it can. Synchronous on purpose: set, spawn, reset run with nothing in between.
 */
export function setSockCreate(context: string | null): void {
  let value = "\n";
  if (context !== null) {
    const c = parseContext(context);
    if (!c) throw new Error(`not a full SELinux context: ${JSON.stringify(context)}`);
    value = `${c.user}:${c.role}:${c.type}:s0`;
  }
  // O_WRONLY without O_CREAT/O_TRUNC: the attr file exists; "w" would also ask for create
  const fd = openSync("/proc/thread-self/attr/sockcreate", constants.O_WRONLY);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

/** Run `fn` (synchronous: a spawn) with this thread's new sockets at s0 of `current`, then reset. */
export function withSocketsAtS0<T>(current: string, fn: () => T): T {
  setSockCreate(current);
  try {
    return fn();
  } finally {
    setSockCreate(null);
  }
}
