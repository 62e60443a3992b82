// The one way root touches a gear's tree. A gear is hostile and owns directories inside its home; while root
// works there, a gear process can rename, swap (renameat2 RENAME_EXCHANGE) and replace any entry of those
// directories with a link, a FIFO or a directory tree. So root never acts on a path below a gear-writable
// directory. Everything here goes through a directory opened with O_DIRECTORY|O_NOFOLLOW (GearDir) and names
// one entry of it: /proc/self/fd/<n>/<name> resolves <n> to exactly the directory we opened, whatever the
// gear renames meanwhile, and the final <name> is never followed (lstat, unlink, rmdir, mkdir, symlink,
// lchown, rename, and every open with O_NOFOLLOW). Node has no openat/unlinkat: these paths are how the same
// calls are made.
//
// Why each operation is safe against a racing gear:
// - reading a node-owned file: O_NOFOLLOW|O_NONBLOCK|O_NOCTTY open (a link fails, a FIFO or a leased file
//   does not block), then fstat on the descriptor: a regular file, one link, an allowed owner, at most
//   maxBytes; only then is it read, from that descriptor, and never more than maxBytes. What it names can
//   change after the open: the descriptor cannot.
// - removing a tree (GearDir.remove): depth first through descriptors. A directory is entered only when it
//   is on the same filesystem and owned by the gear, or owned by root and writable by nobody else (so the
//   gear cannot have moved it there: moving a directory across parents needs write permission on it).
//   Within such a directory root unlinks only what the gear could unlink itself, or what root put there. A
//   swap of a subdirectory for a link only changes which names the next round finds: a link is unlinked,
//   never followed; the moved directory is still ours through its descriptor, or found again by name.
// - creating: mkdir/symlink/temp files are made by name in a directory we hold open; an existing entry
//   (a link the gear put there) makes mkdir fail instead of following it.
// The gear can make these operations fail (refusals name the path); it cannot make them act outside the
// directories they were given.

import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  promises as fs,
  readdirSync,
  readSync,
  type Stats,
} from "fs";
import * as path from "path";
import { RefusedError } from "../../common/errors";

/** root refused to act on a gear path (it is a link, a FIFO, too big, owned by someone else, …). */
export class UnsafeGearPathError extends RefusedError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`refusing ${path}: ${reason}`);
  }
}

// O_NOCTTY: opening a terminal never makes it ours; O_NONBLOCK: a FIFO or a lease never blocks the open
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** How deep a tree removal goes before it gives up (each level holds one descriptor). */
export const MAX_REMOVE_DEPTH = 512;
/** Rounds of list-and-remove per directory before a gear that keeps refilling it is refused. */
const REMOVE_ROUNDS = 10;

export type EntryType = "dir" | "file" | "symlink" | "other";

export function entryType(st: Stats): EntryType {
  return st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
}

/** What reading a node-owned file found. `refused`: there is something, and it was not read. */
export type FileRead =
  | { readonly kind: "missing" }
  | { readonly kind: "file"; readonly text: string; readonly st: Stats }
  | { readonly kind: "refused"; readonly type: EntryType; readonly reason: string };

export interface ReadLimits {
  /** larger files are refused (default 1 MiB) */
  readonly maxBytes?: number;
  /** owner uids whose files may be read (default: any; a root-owned file read for drift passes [0]) */
  readonly owners?: readonly number[];
}

export interface RemovePolicy {
  /** the gear's uid: its directories are entered; root's only when nobody else can write them */
  readonly uid: number;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

function checkName(name: string): string {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0"))
    throw new Error(`not a single path component: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Open `abs` as a directory without following links anywhere (see GearDir.open), as a bare descriptor for
 * walks of their own (node/host/shared-dirs.ts); null when it is missing, a link or not a directory.
 */
export async function openDirNoFollow(abs: string): Promise<fs.FileHandle | null> {
  let h: fs.FileHandle;
  try {
    h = await fs.open(abs, DIR_FLAGS);
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

/** A directory inside (or at) a gear's tree, held open without following links; see the header. */
export class GearDir {
  private constructor(
    /** the path it was opened as (for messages; the descriptor is what counts) */
    readonly path: string,
    private readonly handle: fs.FileHandle,
    readonly st: Stats,
  ) {}

  /**
   * Open `abs` as a directory without following links anywhere: the last component with O_NOFOLLOW, and the
   * kernel's path of the descriptor must be `abs` (so no earlier component was a link). null when it is
   * missing, a link or not a directory.
   */
  static async open(abs: string): Promise<GearDir | null> {
    const h = await openDirNoFollow(abs);
    return h ? new GearDir(abs, h, await h.stat()) : null;
  }

  /** open, or throw naming the path */
  static async openOrThrow(abs: string): Promise<GearDir> {
    const d = await GearDir.open(abs);
    if (!d) throw new UnsafeGearPathError(abs, "not a directory reachable without following a link");
    return d;
  }

  /** Run `fn` on the directory `abs` (opened as with open(); throws when it is not one) and close it. */
  static async withDir<T>(abs: string, fn: (d: GearDir) => Promise<T>): Promise<T> {
    const d = await GearDir.openOrThrow(abs);
    try {
      return await fn(d);
    } finally {
      await d.close();
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** the kernel path of entry `name` of this directory (the final component is the caller's to not follow) */
  private at(name: string): string {
    return `/proc/self/fd/${this.handle.fd}/${checkName(name)}`;
  }

  private rel(name: string): string {
    return path.join(this.path, name);
  }

  /** The entry's own metadata (a link is reported as a link); null when missing. */
  async lstat(name: string): Promise<Stats | null> {
    return fs.lstat(this.at(name)).catch((e) => {
      if (errno(e) === "ENOENT") return null;
      throw e;
    });
  }

  async readlink(name: string): Promise<string | null> {
    return fs.readlink(this.at(name)).catch(() => null);
  }

  /** Entry names, sorted. */
  async list(): Promise<string[]> {
    return readdirSync(`/proc/self/fd/${this.handle.fd}`).sort(); // synchronous: see readFile
  }

  /** Open subdirectory `name` (never through a link); null when it is missing, a link or not a directory. */
  async openDir(name: string): Promise<GearDir | null> {
    let h: fs.FileHandle;
    try {
      h = await fs.open(this.at(name), DIR_FLAGS);
    } catch {
      return null;
    }
    return new GearDir(this.rel(name), h, await h.stat());
  }

  /** mkdir `name` here (mode before umask); false when something is already there (never followed). */
  async mkdir(name: string, mode = 0o700): Promise<boolean> {
    try {
      await fs.mkdir(this.at(name), { mode });
      return true;
    } catch (e) {
      if (errno(e) === "EEXIST") return false;
      throw e;
    }
  }

  async symlink(target: string, name: string): Promise<void> {
    await fs.symlink(target, this.at(name));
  }

  async lchown(name: string, uid: number, gid: number): Promise<void> {
    await fs.lchown(this.at(name), uid, gid);
  }

  /** Remove an empty subdirectory; false when it is not empty (or not there). */
  async rmdir(name: string): Promise<boolean> {
    return fs.rmdir(this.at(name)).then(
      () => true,
      () => false,
    );
  }

  /** Remove a non-directory entry; gone already is fine. */
  async unlink(name: string): Promise<void> {
    await fs.unlink(this.at(name)).catch((e) => {
      if (errno(e) !== "ENOENT") throw e;
    });
  }

  /**
   * Read file `name` as node-owned data: see the header. Never blocks, never follows a link, never reads
   * more than maxBytes.
   */
  async readFile(name: string, limits: ReadLimits = {}): Promise<FileRead> {
    // synchronous calls on purpose: O_NONBLOCK keeps the open from waiting (FIFO, lease), the files are
    // small, and a hook's env is a few directories of small files read on every gear process start, where
    // an await per open, stat, read and close cost tens of milliseconds per start under load
    const max = limits.maxBytes ?? 1 << 20;
    let fd: number;
    try {
      fd = openSync(this.at(name), READ_FLAGS);
    } catch (e) {
      const code = errno(e);
      if (code === "ENOENT") return { kind: "missing" };
      if (code === "ELOOP") return { kind: "refused", type: "symlink", reason: "a symbolic link" };
      if (code === "EAGAIN" || code === "EWOULDBLOCK")
        return { kind: "refused", type: "file", reason: "busy (leased)" };
      throw e;
    }
    try {
      const st = fstatSync(fd);
      const type = entryType(st);
      if (type !== "file") return { kind: "refused", type, reason: `not a regular file (${type})` };
      if (st.nlink !== 1) return { kind: "refused", type, reason: `${st.nlink} hard links` };
      if (limits.owners && !limits.owners.includes(st.uid))
        return { kind: "refused", type, reason: `owned by uid ${st.uid}` };
      if (st.size > max) return { kind: "refused", type, reason: `larger than ${max} bytes` };
      // room for what fstat said plus one byte, grown while the file turns out longer, up to max + 1
      let buf = Buffer.allocUnsafe(Math.min(st.size, max) + 1);
      let len = 0;
      for (;;) {
        const n = readSync(fd, buf, len, buf.length - len, len);
        if (n === 0) break;
        len += n;
        if (len > max) return { kind: "refused", type, reason: `larger than ${max} bytes` };
        if (len === buf.length) {
          const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, max + 1));
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
        }
      }
      return { kind: "file", text: buf.subarray(0, len).toString("utf8"), st };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Write `name` as a temp file in this directory and rename it over the entry: readers never see half a
   * value, and the rename replaces a link rather than writing through it. With `as`, the temp file gets
   * that owner and mode (through its descriptor) before it is renamed into place; else 0600 root.
   */
  async writeFile(
    name: string,
    content: string,
    as?: { uid: number; gid: number; mode: number },
  ): Promise<void> {
    const tmp = `${checkName(name)}.gt-tmp`;
    await this.unlink(tmp);
    const h = await fs.open(this.at(tmp), "wx", 0o600);
    try {
      await h.writeFile(content);
      if (as) {
        await h.chown(as.uid, as.gid);
        await h.chmod(as.mode);
      }
    } finally {
      await h.close();
    }
    await fs.rename(this.at(tmp), this.at(name));
  }

  /**
   * chown/chmod entry `name` (or, with null, this directory) through a descriptor opened without following
   * links: a swapped-in link fails the open and nothing outside is changed.
   */
  async fixOwnerMode(
    name: string | null,
    want: { uid: number; gid: number },
    mode: number,
    isDir: boolean,
  ): Promise<void> {
    const flags = READ_FLAGS | (isDir ? constants.O_DIRECTORY : 0);
    const h = name === null ? this.handle : await fs.open(this.at(name), flags);
    try {
      const st = await h.stat();
      if (st.uid !== want.uid || st.gid !== want.gid) await h.chown(want.uid, want.gid);
      if ((st.mode & 0o7777) !== mode) await h.chmod(mode);
    } finally {
      if (name !== null) await h.close();
    }
  }

  /**
   * Remove entry `name` of this directory, and everything below it when it is a directory, with the gear's
   * reach only (see the header). Missing is fine. Throws UnsafeGearPathError for what it refuses to enter
   * (another filesystem, another owner, deeper than MAX_REMOVE_DEPTH, a directory the gear keeps refilling).
   */
  async remove(name: string, policy: RemovePolicy): Promise<void> {
    await this.removeEntry(name, policy, this.st.dev, 0);
  }

  private async removeEntry(name: string, policy: RemovePolicy, dev: number, depth: number): Promise<void> {
    for (let round = 0; round < REMOVE_ROUNDS; round++) {
      const st = await this.lstat(name);
      if (!st) return;
      if (!st.isDirectory()) {
        const gone = await fs.unlink(this.at(name)).then(
          () => true,
          (e) => (errno(e) === "ENOENT" ? true : errno(e) === "EISDIR" ? false : Promise.reject(e)),
        );
        if (gone) return;
        continue; // it became a directory meanwhile
      }
      const child = await this.openDir(name);
      if (!child) continue; // swapped for something else: look again
      try {
        child.mayEnter(policy, dev, depth);
        await child.empty(policy, dev, depth + 1);
      } finally {
        await child.close();
      }
      const gone = await fs.rmdir(this.at(name)).then(
        () => true,
        (e) =>
          errno(e) === "ENOENT"
            ? true
            : ["ENOTEMPTY", "EEXIST", "ENOTDIR"].includes(errno(e)!)
              ? false
              : Promise.reject(e),
      );
      if (gone) return;
    }
    throw new UnsafeGearPathError(this.rel(name), "keeps changing while it is removed");
  }

  private mayEnter(policy: RemovePolicy, dev: number, depth: number): void {
    if (depth >= MAX_REMOVE_DEPTH)
      throw new UnsafeGearPathError(this.path, `deeper than ${MAX_REMOVE_DEPTH} levels`);
    if (this.st.dev !== dev) throw new UnsafeGearPathError(this.path, "another filesystem is mounted there");
    const rootOnly = this.st.uid === 0 && (this.st.mode & 0o022) === 0;
    if (this.st.uid !== policy.uid && !rootOnly)
      throw new UnsafeGearPathError(this.path, `a directory of uid ${this.st.uid} (not the gear's)`);
  }

  private async empty(policy: RemovePolicy, dev: number, depth: number): Promise<void> {
    for (let round = 0; round < REMOVE_ROUNDS; round++) {
      const names = await this.list();
      if (names.length === 0) return;
      for (const n of names) await this.removeEntry(n, policy, dev, depth);
    }
    throw new UnsafeGearPathError(this.path, "keeps being refilled while it is removed");
  }
}

/** Remove `abs` (a tree in a gear's home, or the home itself) with GearDir.remove; its parent must be a
 * directory reachable without links. */
export async function removeGearTree(abs: string, policy: RemovePolicy): Promise<void> {
  await GearDir.withDir(path.dirname(abs), (parent) => parent.remove(path.basename(abs), policy));
}

/** Names in a directory (no links followed for the directory itself); [] when missing. */
export async function listNoFollow(abs: string): Promise<string[]> {
  const dir = await GearDir.open(abs);
  if (!dir) return [];
  try {
    return await dir.list();
  } finally {
    await dir.close();
  }
}

/**
 * Read the variable files of a gear-controlled env/ directory as root: names matching `namePattern`,
 * regular files only (links, FIFOs and hard links are refused), at most `maxBytes` each, no NUL; one
 * trailing newline is dropped.
 */
export async function readEnvDirSafe(
  abs: string,
  namePattern: RegExp,
  maxBytes = 65536,
): Promise<Record<string, string>> {
  const dir = await GearDir.open(abs);
  if (!dir) return {};
  const out: Record<string, string> = {};
  try {
    for (const name of await dir.list()) {
      if (!namePattern.test(name)) continue;
      const r = await dir.readFile(name, { maxBytes });
      if (r.kind !== "file" || r.text.includes("\0")) continue;
      out[name] = r.text.endsWith("\n") ? r.text.slice(0, -1) : r.text;
    }
  } finally {
    await dir.close();
  }
  return out;
}

/** Read a node-owned file in a gear's home by absolute path (parent opened as GearDir); null when missing.
 * Throws UnsafeGearPathError when it is there but refused (a link, not a regular file, another owner, …). */
export async function readNodeFile(abs: string, limits: ReadLimits = {}): Promise<string | null> {
  const dir = await GearDir.open(path.dirname(abs));
  if (!dir) return null;
  try {
    const r = await dir.readFile(path.basename(abs), limits);
    if (r.kind === "missing") return null;
    if (r.kind === "refused") throw new UnsafeGearPathError(abs, r.reason);
    return r.text;
  } finally {
    await dir.close();
  }
}

/** Open the root-owned directory holding `abs` (home, ~/.env, ~/.ssh, ~/.geartrain …); throws otherwise. */
async function rootDirOf(abs: string): Promise<GearDir> {
  const dir = await GearDir.openOrThrow(path.dirname(abs));
  if (dir.st.uid !== 0 || (dir.st.mode & 0o022) !== 0) {
    await dir.close();
    throw new UnsafeGearPathError(dir.path, "not a directory only root can write");
  }
  return dir;
}

/**
 * Write a node-owned file into a root-owned directory of a home (~/.env, ~/.ssh, ~/.geartrain): temp file
 * and rename in the directory held open, owned uid:gid with `mode` (set through the descriptor).
 */
export async function writeRootFile(
  abs: string,
  content: string,
  mode: number,
  uid: number,
  gid: number,
): Promise<void> {
  const dir = await rootDirOf(abs);
  try {
    await dir.writeFile(path.basename(abs), content, { uid, gid, mode });
  } finally {
    await dir.close();
  }
}

/** Remove a node-owned file from a root-owned directory of a home; missing is fine. */
export async function removeRootFile(abs: string): Promise<void> {
  const dir = await GearDir.open(path.dirname(abs));
  if (!dir) return;
  try {
    await dir.unlink(path.basename(abs));
  } finally {
    await dir.close();
  }
}

/**
 * Relative paths of the regular files under `abs` (a gear's cartridge directory), skipping top-level `skip`
 * names; links are neither listed nor followed, only names are read.
 */
export async function listFilesNoFollow(abs: string, skip: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: GearDir, rel: string, depth: number): Promise<void> => {
    if (depth >= MAX_REMOVE_DEPTH) return;
    for (const name of await dir.list()) {
      if (!rel && skip.includes(name)) continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = await dir.lstat(name);
      if (st?.isFile()) out.push(r);
      else if (st?.isDirectory()) {
        const sub = await dir.openDir(name);
        if (!sub) continue;
        try {
          await walk(sub, r, depth + 1);
        } finally {
          await sub.close();
        }
      }
    }
  };
  const top = await GearDir.open(abs);
  if (!top) return [];
  try {
    await walk(top, "", 0);
  } finally {
    await top.close();
  }
  return out.sort();
}
