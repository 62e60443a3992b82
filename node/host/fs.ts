// File operations for root on a node, safe against a gear that swaps its own files for links: root reads gear
// files only through O_NOFOLLOW opens below a directory whose opened path was checked; root writes only
// into root-owned directories (~/.env, ~/.geartrain) with temp + rename; copies into a gear directory are
// made while it is still root-only and handed over bottom-up with lchown.

import { constants, promises as fs } from "fs";
import * as path from "path";

export async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Open a directory without following links anywhere below `trustedRoot`: the final component is opened
 * O_NOFOLLOW and the kernel's path of the open fd must equal `abs` (so no component was a link). Returns
 * null when it is missing, a link or not a directory.
 */
export async function openDirNoFollow(abs: string): Promise<fs.FileHandle | null> {
  let h: fs.FileHandle;
  try {
    h = await fs.open(abs, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  const real = await fs.readlink(`/proc/self/fd/${h.fd}`).catch(() => "");
  if (real !== abs) {
    await h.close();
    return null;
  }
  return h;
}

/**
 * Read the variable files of a gear-controlled env/ directory as root: names matching `namePattern`,
 * regular files only (links are refused), at most `maxBytes` each; one trailing newline is dropped.
 */
export async function readEnvDirSafe(
  abs: string,
  namePattern: RegExp,
  maxBytes = 65536,
): Promise<Record<string, string>> {
  const dir = await openDirNoFollow(abs);
  if (!dir) return {};
  const out: Record<string, string> = {};
  try {
    const base = `/proc/self/fd/${dir.fd}`;
    for (const name of (await fs.readdir(base)).sort()) {
      if (!namePattern.test(name)) continue;
      let h: fs.FileHandle;
      try {
        h = await fs.open(
          path.join(base, name),
          constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
        );
      } catch {
        continue; // a link or gone
      }
      try {
        const st = await h.stat();
        if (!st.isFile() || st.size > maxBytes) continue;
        const text = (await h.readFile()).toString("utf8");
        if (text.includes("\0")) continue;
        out[name] = text.endsWith("\n") ? text.slice(0, -1) : text;
      } finally {
        await h.close();
      }
    }
  } finally {
    await dir.close();
  }
  return out;
}

/** Names in a directory (no links followed for the directory itself); [] when missing. */
export async function listNoFollow(abs: string): Promise<string[]> {
  const dir = await openDirNoFollow(abs);
  if (!dir) return [];
  try {
    return (await fs.readdir(`/proc/self/fd/${dir.fd}`)).sort();
  } finally {
    await dir.close();
  }
}

/** Write a file in a root-owned directory atomically (temp + rename), owned uid:gid with `mode`. */
export async function writeRootFile(
  file: string,
  content: string,
  mode: number,
  uid: number,
  gid: number,
): Promise<void> {
  const tmp = `${file}.gt-tmp`;
  await fs.rm(tmp, { force: true });
  const h = await fs.open(tmp, "wx", 0o600);
  try {
    await h.writeFile(content);
    await h.chown(uid, gid);
    await h.chmod(mode);
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}

/** Read a text file; null when missing. */
export async function readText(file: string): Promise<string | null> {
  return fs.readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
}

export interface CopyOptions {
  /** top-level names not copied */
  readonly skip?: readonly string[];
  /** mode for a file: from the source mode */
  readonly fileMode: (srcMode: number) => number;
  readonly dirMode: number;
  /** copy over an existing tree: existing directories are reused, existing files replaced */
  readonly overlay?: boolean;
}

/** Copy a trusted tree (symlinks kept as links). `dest` must exist and be private to root while copying. */
export async function copyTree(src: string, dest: string, opts: CopyOptions, top = true): Promise<void> {
  for (const e of await fs.readdir(src, { withFileTypes: true })) {
    if (top && opts.skip?.includes(e.name)) continue;
    const s = path.join(src, e.name);
    const d = path.join(dest, e.name);
    if (e.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(s), d);
    } else if (e.isDirectory()) {
      await fs.mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (!(opts.overlay && err.code === "EEXIST")) throw err;
      });
      await copyTree(s, d, opts, false);
      await fs.chmod(d, opts.dirMode);
    } else if (e.isFile()) {
      if (opts.overlay) await fs.rm(d, { force: true });
      await fs.copyFile(s, d, constants.COPYFILE_EXCL);
      await fs.chmod(d, opts.fileMode((await fs.stat(s)).mode));
    }
  }
}

/** lchown a tree bottom-up (children before their directory), never following links. */
export async function chownTreeBottomUp(dir: string, uid: number, gid: number): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await chownTreeBottomUp(p, uid, gid);
    else await fs.lchown(p, uid, gid);
  }
  await fs.lchown(dir, uid, gid);
}

/** Every relative path of a tree (files, dirs, links), sorted; for content comparison of repository copies. */
export async function treeDigestEntries(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fs.readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const p = path.join(dir, r);
    if (e.isSymbolicLink()) out.push(`L ${r} ${await fs.readlink(p)}`);
    else if (e.isDirectory()) out.push(`D ${r}`, ...(await treeDigestEntries(dir, r)));
    else if (e.isFile()) {
      const st = await fs.stat(p);
      const { createHash } = await import("crypto"); // not at the top: most callers of this module never hash
      const hash = createHash("sha256")
        .update(await fs.readFile(p))
        .digest("hex");
      out.push(`F ${r} ${st.mode & 0o111 ? "x" : "-"} ${hash}`);
    }
  }
  return out;
}

/**
 * Relative paths of the regular files under `dir`, skipping top-level `skip` names; links (to files or
 * directories) are neither listed nor followed. Only names are read.
 */
export async function listFiles(dir: string, skip: readonly string[] = [], rel = ""): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(rel ? path.join(dir, rel) : dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!rel && skip.includes(e.name)) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, skip, r)));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}
