// Locks. A per-gear lock file (O_EXCL, holder pid + process start time) serialises operations on one gear
// across processes; a holder that died (kill -9) is detected and its lock taken over, so a crash never
// wedges a gear. An in-process mutex serialises account-database edits (useradd & co. also lock
// /etc/.pwd.lock themselves; queueing here avoids their 1 s retry sleeps under concurrency).

import { promises as fs, readFileSync } from "fs";
import * as path from "path";

function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // field 22 (starttime), counted after the ")" that ends the command name
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

const SELF = `${process.pid} ${startTime(process.pid) ?? "0"}`;

function holderAlive(content: string): boolean {
  const [pidS, st] = content.trim().split(" ");
  const pid = Number(pidS);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return startTime(pid) === st;
}

const local = new Map<string, Promise<void>>();

/** Run fn while holding the lock file `file`. Waits (polling) up to timeoutMs. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  // queue same-process callers first so they don't spin against each other
  const prev = local.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = prev.then(() => mine);
  local.set(file, chained);
  await prev;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      try {
        const h = await fs.open(file, "wx", 0o600);
        await h.writeFile(SELF);
        await h.close();
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      let content = "";
      try {
        content = await fs.readFile(file, "utf8");
      } catch {
        continue; // released between open and read
      }
      const emptyAndOld =
        content === "" &&
        (await fs.stat(file).then(
          (st) => Date.now() - st.mtimeMs > 5000,
          () => false,
        ));
      if ((content !== "" && !holderAlive(content)) || emptyAndOld) {
        // stale: holder died. Rename is atomic; only one taker wins, others retry.
        const stale = `${file}.stale.${process.pid}`;
        try {
          await fs.rename(file, stale);
          const moved = await fs.readFile(stale, "utf8");
          if (moved !== content) {
            // we moved a fresh lock taken meanwhile by someone else: put it back (link fails if yet another
            // taker exists, which is then the rightful holder either way)
            await fs.link(stale, file).catch(() => undefined);
          }
          await fs.unlink(stale);
        } catch {
          /* someone else took it */
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for lock ${file} (held by ${content.trim()})`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
    try {
      return await fn();
    } finally {
      await fs.unlink(file).catch(() => undefined);
    }
  } finally {
    release();
    if (local.get(file) === chained) local.delete(file);
  }
}

/** In-process mutex by name. */
const mutexes = new Map<string, Promise<void>>();
export async function withMutex<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const prev = mutexes.get(name) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = prev.then(() => mine);
  mutexes.set(name, chained);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (mutexes.get(name) === chained) mutexes.delete(name);
  }
}
