// The request journal: what a delivery does given its record (pure), and the files (a temp dir).

import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { journalDecision, RequestJournal } from "../../../../services/agent/journal";
import type { BusReply } from "../../../../services/bus/actions";

const reply: BusReply = { id: "req-00000001", node: "n1", ok: true, result: [] };

test("decision: run (counting attempts), reply from the journal, or refuse after maxAttempts", () => {
  expect(journalDecision(null, 2)).toEqual({ kind: "run", attempt: 1 });
  expect(journalDecision({ state: "running", attempts: 1, at: 0 }, 2)).toEqual({ kind: "run", attempt: 2 });
  expect(journalDecision({ state: "running", attempts: 2, at: 0 }, 2)).toEqual({
    kind: "poison",
    attempts: 2,
  });
  expect(journalDecision({ state: "done", attempts: 2, at: 0, reply }, 2)).toEqual({ kind: "done", reply });
});

test("files: written 0600 in a 0700 directory, read back, pruned by age; ids are checked", async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "gt-journal-"));
  try {
    const j = new RequestJournal(path.join(root, "j"), 1000);
    await j.open();
    expect(statSync(j.dir).mode & 0o777).toBe(0o700);
    expect(await j.get("req-00000001")).toBeNull();
    await j.put("req-00000001", { state: "done", attempts: 1, at: 5, reply });
    expect(await j.get("req-00000001")).toEqual({ state: "done", attempts: 1, at: 5, reply });
    expect(statSync(path.join(j.dir, "req-00000001.json")).mode & 0o777).toBe(0o600);
    writeFileSync(path.join(j.dir, "req-00000002.json"), "{not json");
    expect(await j.get("req-00000002")).toBeNull();
    const old = new Date(Date.now() - 5000);
    utimesSync(path.join(j.dir, "req-00000001.json"), old, old);
    expect(await j.prune(Date.now())).toBe(1);
    expect(await j.get("req-00000001")).toBeNull();
    await expect(j.get("../etc/passwd")).rejects.toThrow(/not a request id/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
