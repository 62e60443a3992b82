// Gear home layout (reference §1.4, the subset of the issue): the desired entries as data (pure), applying
// them without following links the gear controls, and reading them back for drift.

import {
  chmodSync,
  chownSync,
  constants,
  lchownSync,
  mkdirSync,
  promises as fs,
  symlinkSync,
  writeFileSync,
} from "fs";
import * as path from "path";
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
 * Open `abs` without following a final symlink and check the kernel's own idea of the opened path; chown and
 * chmod go through that fd. So a gear that swaps a directory for a link can never make us chown/chmod
 * something outside its home.
 */
async function fixOwnerMode(abs: string, want: { uid: number; gid: number }, mode: number, isDir: boolean) {
  const flags =
    constants.O_RDONLY | constants.O_NOFOLLOW | (isDir ? constants.O_DIRECTORY : 0) | constants.O_NONBLOCK;
  const h = await fs.open(abs, flags);
  try {
    const real = await fs.readlink(`/proc/self/fd/${h.fd}`);
    if (real !== abs) throw new Error(`refusing to change ${abs}: it resolves to ${real}`);
    const st = await h.stat();
    if (st.uid !== want.uid || st.gid !== want.gid) await h.chown(want.uid, want.gid);
    if ((st.mode & 0o7777) !== mode) await h.chmod(mode);
  } finally {
    await h.close();
  }
}

/**
 * Write a temp file and rename it over `abs`: readers never see a half-written value, and the rename
 * replaces a link rather than writing through it. Both happen inside the parent directory opened without
 * following links and checked to be the intended path (/proc/self/fd/N/<name>), so a gear that swaps a
 * directory it owns (e.g. git/<app>.git) for a link cannot make root write elsewhere.
 */
async function writeInDir(abs: string, content: string): Promise<void> {
  const parent = path.dirname(abs);
  const h = await fs.open(parent, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const real = await fs.readlink(`/proc/self/fd/${h.fd}`);
    if (real !== parent) throw new Error(`refusing to write ${abs}: ${parent} resolves to ${real}`);
    const target = `/proc/self/fd/${h.fd}/${path.basename(abs)}`;
    const tmp = `${target}.gt-tmp`;
    await fs.rm(tmp, { force: true });
    await fs.writeFile(tmp, content, { mode: 0o600, flag: "wx" });
    await fs.rename(tmp, target);
  } finally {
    await h.close();
  }
}

async function lstatOrNull(p: string) {
  try {
    return await fs.lstat(p);
  } catch {
    return null;
  }
}

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
  for (const e of entries) {
    const abs = e.rel === "." ? home : path.join(home, e.rel);
    const want = ids(e, uid);
    let st = await lstatOrNull(abs);
    if (st && e.linkOk && st.isSymbolicLink() && e.linkOk.test(await fs.readlink(abs))) continue;
    if (st) {
      const ok =
        (e.type === "dir" && st.isDirectory()) ||
        (e.type === "file" && st.isFile()) ||
        (e.type === "symlink" && st.isSymbolicLink() && (await fs.readlink(abs)) === e.content);
      if (!ok) {
        await fs.rm(abs, { recursive: true, force: true }); // rm never follows a link it removes
        st = null;
      }
    }
    if (e.type === "dir") {
      if (!st) await fs.mkdir(abs, { mode: 0o700 });
      await fixOwnerMode(abs, want, e.mode, true);
    } else if (e.type === "file") {
      const content = e.content ?? "";
      if (!st || (e.exact && (await fs.readFile(abs, "utf8")) !== content)) await writeInDir(abs, content);
      await fixOwnerMode(abs, want, e.mode, false);
    } else if (!st) {
      await fs.symlink(e.content!, abs);
      await fs.lchown(abs, want.uid, want.gid);
    }
  }
}

/** Remove user var files not in the spec (they are node-managed). */
export async function pruneUserVars(home: string, spec: GearSpec): Promise<void> {
  const dirPath = path.join(home, ".env/user_vars");
  const names = await fs.readdir(dirPath).catch(() => [] as string[]);
  for (const n of names) if (!(n in spec.env)) await fs.rm(path.join(dirPath, n), { force: true });
}

function octal(m: number): string {
  return `0${(m & 0o7777).toString(8).padStart(3, "0")}`;
}

/** Compare the home with the layout. Returns exactly the differences. */
export async function readHomeDrift(
  home: string,
  entries: readonly HomeEntry[],
  uid: number,
): Promise<Drift[]> {
  const drift: Drift[] = [];
  for (const e of entries) {
    const abs = e.rel === "." ? home : path.join(home, e.rel);
    const field = `path:${e.rel}`;
    const st = await lstatOrNull(abs);
    if (!st) {
      drift.push({ field, expected: e.type, actual: "missing" });
      continue;
    }
    if (e.linkOk && st.isSymbolicLink() && e.linkOk.test(await fs.readlink(abs))) continue;
    const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
    if (type !== e.type) {
      drift.push({ field: `${field}.type`, expected: e.type, actual: type });
      continue;
    }
    if (e.type === "symlink") {
      const target = await fs.readlink(abs);
      if (target !== e.content)
        drift.push({ field: `${field}.target`, expected: e.content!, actual: target });
      continue;
    }
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
    if (e.type === "file" && e.exact) {
      const content = await fs.readFile(abs, "utf8");
      if (content !== e.content)
        drift.push({ field: `${field}.content`, expected: e.content!, actual: content });
    }
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
