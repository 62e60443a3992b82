// File operations on root's own trees: the cartridge repository, files outside every gear, and a cartridge
// copy into a directory that is still root-only (nothing of the gear can reach it until it is handed over
// bottom-up with lchown). Anything inside a gear's home that the gear can reach goes through
// node/host/gear-fs.ts instead (docs/conventions.md "Root and gear files").

import { constants, promises as fs } from "fs";
import * as path from "path";

export async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
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
