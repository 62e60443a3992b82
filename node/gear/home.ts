// Gear home layout (reference §1.4, the subset of the issue): the desired entries as data (pure), applying
// them without following links the gear controls, and reading them back for drift.

import { chmodSync, chownSync, lchownSync, mkdirSync, promises as fs, symlinkSync, writeFileSync } from "fs";
import * as path from "path";
import { entryType, GearDir, UnsafeGearPathError } from "../host/gear-fs";
import { repoHookFiles } from "../deploy/git-hooks";
import { REPO_LINK_PATTERN } from "../deploy/model";
import { systemEnv } from "./env";
import type { Drift, GearSpec, NodeConfig } from "../types";

export type Owner = "root" | "gear";

export interface HomeEntry {
  /** path relative to the home; "." is the home itself */
  readonly rel: string;
  readonly type: "dir" | "file" | "symlink";
  readonly mode: number;
  readonly owner: Owner;
  readonly group: Owner;
  /** file content (checked for drift when `exact`) or symlink target */
  readonly content?: string;
  /** content is node-owned: drift if it differs. Otherwise only written when missing. */
  readonly exact?: boolean;
  /** a dir that may instead be a symlink whose target matches (runtime/repo → the active deployment) */
  readonly linkOk?: RegExp;
}

const dir = (rel: string, mode: number, owner: Owner, group: Owner = "gear"): HomeEntry => ({
  rel,
  type: "dir",
  mode,
  owner,
  group,
});

/** Desired layout, parents before children. ro = root:gear, rw = gear:gear. */
export function homeLayout(spec: GearSpec, config: NodeConfig): HomeEntry[] {
  const git = `git/${spec.app}.git`;
  const entries: HomeEntry[] = [
    dir(".", 0o750, "root"),
    dir(".env", 0o750, "root"),
    dir(".env/user_vars", 0o750, "root"),
    dir(".ssh", 0o750, "root"),
    dir(".tmp", 0o000, "root"),
    dir("app-root", 0o750, "root"),
    dir("app-root/data", 0o750, "gear"),
    dir("app-root/logs", 0o750, "gear"),
    dir("app-root/runtime", 0o750, "gear"),
    { ...dir("app-root/runtime/repo", 0o750, "gear"), linkOk: REPO_LINK_PATTERN },
    {
      rel: "app-root/runtime/.state",
      type: "file",
      mode: 0o660,
      owner: "gear",
      group: "gear",
      content: "new\n",
    },
    {
      rel: "app-root/repo",
      type: "symlink",
      mode: 0o777,
      owner: "root",
      group: "root",
      content: "runtime/repo",
    },
    dir("git", 0o750, "root"),
    dir(git, 0o750, "gear"),
    dir(`${git}/hooks`, 0o755, "root"),
    dir(`${git}/objects`, 0o750, "gear"),
    dir(`${git}/refs`, 0o750, "gear"),
    dir(`${git}/refs/heads`, 0o750, "gear"),
    dir(`${git}/refs/tags`, 0o750, "gear"),
    {
      rel: `${git}/HEAD`,
      type: "file",
      mode: 0o640,
      owner: "gear",
      group: "gear",
      content: "ref: refs/heads/master\n",
    },
    {
      rel: `${git}/config`,
      type: "file",
      mode: 0o640,
      owner: "root",
      group: "gear",
      content: "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n",
      exact: true,
    },
    // git push deploys (node/deploy): root-owned hooks that hand over to `geartrain node gear-hook`
    ...repoHookFiles(git).map((h): HomeEntry => ({
      ...h,
      type: "file",
      mode: 0o755,
      owner: "root",
      group: "gear",
      exact: true,
    })),
  ];
  for (const [name, value] of Object.entries(systemEnv(spec, config)))
    entries.push(envFile(`.env/${name}`, value));
  for (const [name, value] of Object.entries(spec.env))
    entries.push(envFile(`.env/user_vars/${name}`, value));
  return entries;
}

/** A variable file: root:gear 0640 (the gear reads it, never changes it), content exactly `value`. */
function envFile(rel: string, value: string): HomeEntry {
  return { rel, type: "file", mode: 0o640, owner: "root", group: "gear", content: value, exact: true };
}

function ids(e: HomeEntry, uid: number): { uid: number; gid: number } {
  return { uid: e.owner === "root" ? 0 : uid, gid: e.group === "root" ? 0 : uid };
}

/**
 * The directories of a home, opened once each without following links (node/host/gear-fs.ts) and reached
 * from the home downwards, descriptor by descriptor: what a gear renames or swaps meanwhile cannot move an
 * operation outside the directory it was opened as. null: not reachable (missing, a link, not a directory).
 */
class HomeDirs {
  private readonly open = new Map<string, GearDir | null>();
  constructor(private readonly home: string) {}

  async get(rel: string): Promise<GearDir | null> {
    if (this.open.has(rel)) return this.open.get(rel)!;
    const parentRel = path.dirname(rel);
    const d =
      rel === "."
        ? await GearDir.open(this.home)
        : ((await (await this.get(parentRel))?.openDir(path.basename(rel))) ?? null);
    this.open.set(rel, d);
    return d;
  }

  /** forget what was opened for `rel` (it was replaced) */
  async drop(rel: string): Promise<void> {
    const d = this.open.get(rel);
    this.open.delete(rel);
    await d?.close();
  }

  async close(): Promise<void> {
    for (const d of this.open.values()) await d?.close();
    this.open.clear();
  }
}

/** the directory holding entry `rel` and the entry's name in it */
function split(rel: string): { parent: string; name: string } {
  return { parent: path.dirname(rel), name: path.basename(rel) };
}

/** Largest node-owned file read back for drift. */
const MAX_EXACT_BYTES = 1 << 20;

/**
 * Lay out a home that was just created empty, for a gear that cannot have run anything yet (first create
 * attempt: the account did not exist). Nothing can race us, so plain path operations are safe; done
 * synchronously (≈100 small syscalls) to keep create close to the bare-script floor.
 */
function layoutFresh(home: string, entries: readonly HomeEntry[], uid: number): void {
  for (const e of entries) {
    const abs = e.rel === "." ? home : path.join(home, e.rel);
    const want = ids(e, uid);
    if (e.type === "symlink") {
      symlinkSync(e.content!, abs);
      lchownSync(abs, want.uid, want.gid);
      continue;
    }
    if (e.type === "dir" && e.rel !== ".") mkdirSync(abs, { mode: 0o700 });
    if (e.type === "file") writeFileSync(abs, e.content ?? "", { mode: 0o600, flag: "wx" });
    chownSync(abs, want.uid, want.gid);
    chmodSync(abs, e.mode);
  }
}

/**
 * Make the home match the layout. Idempotent; wrong types (e.g. a link where a dir belongs) are replaced.
 * `fresh`: the home is empty and its gear has never run (see layoutFresh).
 */
export async function applyHome(
  home: string,
  entries: readonly HomeEntry[],
  uid: number,
  fresh = false,
): Promise<void> {
  if (fresh && (await fs.readdir(home)).length === 0) {
    layoutFresh(home, entries, uid);
    return;
  }
  const dirs = new HomeDirs(home);
  try {
    for (const e of entries) await applyEntry(dirs, home, e, uid);
  } finally {
    await dirs.close();
  }
}

/** One entry of applyHome, relative to its parent directory's descriptor; wrong types are removed first. */
async function applyEntry(dirs: HomeDirs, home: string, e: HomeEntry, uid: number): Promise<void> {
  const want = ids(e, uid);
  if (e.rel === ".") {
    const d = await dirs.get(".");
    if (!d) throw new UnsafeGearPathError(home, "the home is not a directory reachable without links");
    await d.fixOwnerMode(null, want, e.mode, true);
    return;
  }
  const { parent: parentRel, name } = split(e.rel);
  const parent = await dirs.get(parentRel);
  if (!parent)
    throw new UnsafeGearPathError(path.join(home, parentRel), "not a directory (links are not followed)");
  let st = await parent.lstat(name);
  if (st && e.linkOk && st.isSymbolicLink() && e.linkOk.test((await parent.readlink(name)) ?? "")) return;
  if (st) {
    const ok =
      (e.type === "dir" && st.isDirectory()) ||
      (e.type === "file" && st.isFile()) ||
      (e.type === "symlink" && st.isSymbolicLink() && (await parent.readlink(name)) === e.content);
    if (!ok) {
      await dirs.drop(e.rel);
      await parent.remove(name, { uid }); // as far as the gear itself could reach, never through a link
      st = null;
    }
  }
  if (e.type === "dir") {
    if (!st) await parent.mkdir(name, 0o700);
    const d = await dirs.get(e.rel);
    if (!d) throw new UnsafeGearPathError(path.join(home, e.rel), "replaced while it was repaired");
    await d.fixOwnerMode(null, want, e.mode, true);
  } else if (e.type === "file") {
    const content = e.content ?? "";
    const current = st && e.exact ? await parent.readFile(name, { maxBytes: MAX_EXACT_BYTES }) : null;
    if (!st || (current && (current.kind !== "file" || current.text !== content)))
      await parent.writeFile(name, content);
    await parent.fixOwnerMode(name, want, e.mode, false);
  } else if (!st) {
    await parent.symlink(e.content!, name);
    await parent.lchown(name, want.uid, want.gid);
  }
}

/** Remove user var files not in the spec (they are node-managed). */
export async function pruneUserVars(home: string, spec: GearSpec): Promise<void> {
  const dir = await GearDir.open(path.join(home, ".env/user_vars"));
  if (!dir) return;
  try {
    for (const n of await dir.list()) if (!(n in spec.env)) await dir.unlink(n);
  } finally {
    await dir.close();
  }
}

function octal(m: number): string {
  return `0${(m & 0o7777).toString(8).padStart(3, "0")}`;
}

/**
 * The drift of one entry, read through its parent's descriptor: metadata from lstat, a link's target from
 * readlink, content only from a regular, root-owned file opened without following links or blocking.
 */
async function entryDrift(dirs: HomeDirs, e: HomeEntry, uid: number): Promise<Drift[]> {
  const field = `path:${e.rel}`;
  const { parent: parentRel, name } = split(e.rel);
  const parent = e.rel === "." ? null : await dirs.get(parentRel);
  const st = e.rel === "." ? ((await dirs.get("."))?.st ?? null) : ((await parent?.lstat(name)) ?? null);
  if (!st) return [{ field, expected: e.type, actual: "missing" }];
  const target = parent && st.isSymbolicLink() ? await parent.readlink(name) : null;
  if (e.linkOk && target !== null && e.linkOk.test(target)) return [];
  const type = entryType(st);
  if (type !== e.type) return [{ field: `${field}.type`, expected: e.type, actual: type }];
  if (e.type === "symlink")
    return target !== e.content
      ? [{ field: `${field}.target`, expected: e.content!, actual: String(target) }]
      : [];
  const drift: Drift[] = [];
  const want = ids(e, uid);
  if (st.uid !== want.uid || st.gid !== want.gid) {
    drift.push({
      field: `${field}.owner`,
      expected: `${want.uid}:${want.gid}`,
      actual: `${st.uid}:${st.gid}`,
    });
  }
  if ((st.mode & 0o7777) !== e.mode)
    drift.push({ field: `${field}.mode`, expected: octal(e.mode), actual: octal(st.mode) });
  if (e.type === "file" && e.exact && parent) {
    const r = await parent.readFile(name, { maxBytes: MAX_EXACT_BYTES, owners: [want.uid] });
    const actual = r.kind === "file" ? r.text : r.kind === "missing" ? "missing" : `not read: ${r.reason}`;
    if (actual !== e.content) drift.push({ field: `${field}.content`, expected: e.content!, actual });
  }
  return drift;
}

/** Compare the home with the layout. Returns exactly the differences. */
export async function readHomeDrift(
  home: string,
  entries: readonly HomeEntry[],
  uid: number,
): Promise<Drift[]> {
  const drift: Drift[] = [];
  const dirs = new HomeDirs(home);
  try {
    for (const e of entries) drift.push(...(await entryDrift(dirs, e, uid)));
  } finally {
    await dirs.close();
  }
  const uv = path.join(home, ".env/user_vars");
  const wanted = new Set(
    entries.filter((e) => e.rel.startsWith(".env/user_vars/")).map((e) => path.basename(e.rel)),
  );
  for (const n of await fs.readdir(uv).catch(() => [] as string[])) {
    if (!wanted.has(n))
      drift.push({ field: `path:.env/user_vars/${n}`, expected: "absent", actual: "present" });
  }
  return drift;
}

/** Cartridge instance dirs: non-hidden top-level dirs other than app-root and git. */
export async function listCartridgeDirs(home: string): Promise<string[]> {
  const entries = await fs.readdir(home, { withFileTypes: true }).catch(() => []);
  return entries
    .filter(
      (e) =>
        e.isDirectory() &&
        !e.name.startsWith(".") &&
        !["app-root", "app-deployments", "git", "lost+found"].includes(e.name),
    )
    .map((e) => e.name)
    .sort();
}

export { octal };
