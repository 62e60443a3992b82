// What accounts leave in the directories every account may write: /tmp, /var/tmp, /dev/shm (POSIX shared
// memory and semaphores: the shipped PostgreSQL keeps its segments there) and the POSIX message queues. A
// destroyed gear's entries there would belong to the next gear given its uid, so destroy removes them and
// the node check reports any of a district uid that has no gear.
//
// Finding them (root): a walk through directories opened O_DIRECTORY|O_NOFOLLOW, each entry named through
// /proc/self/fd/<n>/<name> and lstat'ed (never followed or opened). An account can only have made entries
// in directories it may write, so the walk enters only directories writable by every account (and on the
// same filesystem); an entry of the wanted uids is reported without entering it.
// Removing them: as the gear's own uid and gid (no groups), with rm, after its processes are killed. A gear
// that swapped a path for a link meanwhile gains nothing: rm follows no link, and what it could remove
// through one is what the gear could remove itself. Message queues (a flat filesystem: no directories, no
// links) are unlinked by root.

import { constants, lstatSync, promises as fs, readdirSync, type Stats } from "fs";
import * as path from "path";
import { run } from "./exec";
import { openDirNoFollow } from "./gear-fs";

/** The world-writable directories gears share with everyone (message queues come apart: see mqueue). */
export const SHARED_DIRS = ["/tmp", "/var/tmp", "/dev/shm"] as const;
export const MQUEUE_MOUNT = "/dev/mqueue";
/** How many entries one directory tree's walk looks at before it stops (the check stays bounded). */
export const MAX_SCAN_ENTRIES = 200_000;
const MAX_SCAN_DEPTH = 64;

export type EntryKind = "dir" | "file" | "link" | "other";

export interface OwnedEntry {
  readonly path: string;
  readonly uid: number;
  readonly kind: EntryKind;
}

export interface ScanResult {
  readonly entries: OwnedEntry[];
  /** the walk stopped at maxEntries: there may be more */
  readonly truncated: boolean;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function listSync(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function kindOf(st: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): EntryKind {
  return st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "link" : "other";
}

/**
 * The entries under `root` owned by a uid `wanted` accepts (see the header for how). Missing root: none.
 */
export async function scanOwned(
  root: string,
  wanted: (uid: number) => boolean,
  maxEntries = MAX_SCAN_ENTRIES,
): Promise<ScanResult> {
  const entries: OwnedEntry[] = [];
  let seen = 0;
  const top = await openDirNoFollow(root);
  if (!top) return { entries, truncated: false };
  const dev = (await top.stat()).dev;
  const walk = async (dir: fs.FileHandle, logical: string, depth: number): Promise<boolean> => {
    const base = `/proc/self/fd/${dir.fd}`;
    // listing and lstat synchronously: metadata of a few hundred entries is cached and takes about a
    // millisecond, where one thread-pool round trip per entry made this most of a gear destroy
    for (const name of listSync(base).sort()) {
      if (++seen > maxEntries) return false;
      const st = lstatOrNull(`${base}/${name}`);
      if (!st) continue; // gone meanwhile
      const p = path.join(logical, name);
      if (wanted(st.uid)) {
        entries.push({ path: p, uid: st.uid, kind: kindOf(st) });
        continue;
      }
      if (!st.isDirectory() || (st.mode & 0o002) === 0 || st.dev !== dev || depth >= MAX_SCAN_DEPTH) continue;
      let sub: fs.FileHandle;
      try {
        sub = await fs.open(
          `${base}/${name}`,
          constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
        );
      } catch {
        continue; // swapped for a link or gone
      }
      try {
        const now = await sub.stat();
        if (now.ino === st.ino && now.dev === st.dev && !(await walk(sub, p, depth + 1))) return false;
      } finally {
        await sub.close();
      }
    }
    return true;
  };
  try {
    const complete = await walk(top, root, 0);
    return { entries, truncated: !complete };
  } finally {
    await top.close();
  }
}

/** Remove `paths` as uid:gid (no supplementary groups), never crossing into another filesystem. */
export async function removeAsAccount(uid: number, gid: number, paths: readonly string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += 256) {
    const batch = paths.slice(i, i + 256);
    // rm's exit status is not the verdict (an entry may be gone already): the caller scans again
    await run(["rm", "-rf", "--one-file-system", "--", ...batch], { user: { uid, gid } });
  }
}

async function mqueueMounted(): Promise<boolean> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8");
  return info.split("\n").some((l) => {
    const [pre, post] = l.split(" - ");
    return pre?.split(" ")[4] === MQUEUE_MOUNT && post?.startsWith("mqueue ");
  });
}

/**
 * Run fn with a directory that shows the host's POSIX message queues: /dev/mqueue when it is mounted, else
 * an mqueue filesystem mounted for the call in a new root-only directory under /run (unmounted after).
 */
export async function withMqueueDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  if (await mqueueMounted()) return fn(MQUEUE_MOUNT);
  const dir = await fs.mkdtemp("/run/geartrain-mqueue-");
  try {
    const m = await run(["mount", "-t", "mqueue", "-o", "nosuid,nodev,noexec", "mqueue", dir]);
    if (m.code !== 0) throw new Error(`cannot mount the mqueue filesystem: ${m.stderr.trim()}`);
    try {
      return await fn(dir);
    } finally {
      await run(["umount", dir]);
    }
  } finally {
    await fs.rmdir(dir).catch(() => undefined);
  }
}

/** The message queues of the wanted uids, as "/<name>" (the name mq_open takes). */
export async function ownedQueues(wanted: (uid: number) => boolean): Promise<OwnedEntry[]> {
  return withMqueueDir(async (dir) => {
    const found = await scanOwned(dir, wanted);
    return found.entries.map((e) => ({ ...e, path: `/${path.basename(e.path)}` }));
  });
}

/** Remove the uid's message queues (root unlinks: the mqueue filesystem has neither directories nor links). */
export async function removeQueues(uid: number): Promise<void> {
  await withMqueueDir(async (dir) => {
    for (const q of (await scanOwned(dir, (u) => u === uid)).entries)
      await fs.unlink(path.join(dir, path.basename(q.path))).catch(() => undefined);
  });
}

/** Remove everything of `uid` in the shared directories and its message queues; returns what is left. */
export async function removeSharedEntries(uid: number, gid: number): Promise<OwnedEntry[]> {
  const left: OwnedEntry[] = [];
  for (const root of SHARED_DIRS) {
    const found = await scanOwned(root, (u) => u === uid);
    if (found.entries.length === 0) continue;
    await removeAsAccount(
      uid,
      gid,
      found.entries.map((e) => e.path),
    );
    left.push(...(await scanOwned(root, (u) => u === uid)).entries);
  }
  await removeQueues(uid);
  return left;
}
