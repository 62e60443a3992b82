// The agent's request journal on disk: for each correlation id, whether its run started (and how often) and,
// once done, its reply. It makes idempotency outlive the agent process: a request redelivered after the
// agent died is answered from the journal if its run had finished, run again if it had not (node operations
// converge), and refused once it has been started `maxAttempts` times without finishing (a request that kills
// the agent every time would otherwise loop forever: STOMP tells no redelivery count). One file per id,
// written whole (temp file + rename), mode 0600, in a root-owned directory of the agent's own.

import { promises as fs } from "fs";
import * as path from "path";
import type { BusReply } from "../bus/actions";

export type JournalRecord =
  | { readonly state: "running"; readonly attempts: number; readonly at: number }
  | { readonly state: "done"; readonly attempts: number; readonly at: number; readonly reply: BusReply };

/** Pure: what a delivery of an id does, given its journal record. */
export function journalDecision(
  record: JournalRecord | null,
  maxAttempts: number,
):
  | { readonly kind: "run"; readonly attempt: number }
  | { readonly kind: "done"; readonly reply: BusReply }
  | { readonly kind: "poison"; readonly attempts: number } {
  if (record?.state === "done") return { kind: "done", reply: record.reply };
  const attempts = record?.attempts ?? 0;
  if (attempts >= maxAttempts) return { kind: "poison", attempts };
  return { kind: "run", attempt: attempts + 1 };
}

const ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

export class RequestJournal {
  constructor(
    readonly dir: string,
    private readonly ttlMs = 60 * 60 * 1000,
  ) {}

  async open(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.dir, 0o700);
    await this.prune(Date.now());
  }

  private file(id: string): string {
    if (!ID_RE.test(id)) throw new Error(`not a request id: ${JSON.stringify(id)}`);
    return path.join(this.dir, `${id}.json`);
  }

  async get(id: string): Promise<JournalRecord | null> {
    try {
      return JSON.parse(await fs.readFile(this.file(id), "utf8")) as JournalRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      if (e instanceof SyntaxError) return null; // a torn write cannot happen (rename), but never trust a file
      throw e;
    }
  }

  async put(id: string, record: JournalRecord): Promise<void> {
    const f = this.file(id);
    const tmp = `${f}.tmp-${process.pid}`;
    await fs.writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    await fs.rename(tmp, f);
  }

  /** Forget records older than the ttl (and leftover temp files). */
  async prune(now: number): Promise<number> {
    let removed = 0;
    for (const name of await fs.readdir(this.dir)) {
      const f = path.join(this.dir, name);
      try {
        const st = await fs.lstat(f);
        const age = now - st.mtimeMs;
        if (st.isFile() && (age > this.ttlMs || (name.includes(".tmp-") && age > 60_000))) {
          await fs.unlink(f);
          removed++;
        }
      } catch {
        /* gone meanwhile */
      }
    }
    return removed;
  }
}
