// Pending-op chains against a real private PostgreSQL, across OS processes: a broker is SIGKILLed in the
// middle of a chain; a second broker cannot claim it while the dead one's lease runs, then claims it and
// completes it, or rolls it back in reverse (its UID back in the pool); the dead broker's lease is fenced.

import type { ChildProcess } from "child_process";
import { districts } from "../../../services/broker/store";
import { OpEngine } from "../../../services/broker/store/op-engine";
import {
  claimNextOp,
  getOp,
  insertOp,
  LeaseLostError,
  saveOp,
} from "../../../services/broker/store/pending-ops";
import { newId } from "../../../services/broker/store/secrets";
import { chainOf, chainSteps, type ChainArgs } from "./chain-steps";
import { spawnScript, startStore, stopStore, type StoreFixture } from "./helpers";

jest.setTimeout(120_000);

const LEASE_MS = 3000;
let f: StoreFixture;
let districtId: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  f = await startStore();
  districtId = (
    await f.db.tx((q) => districts.createDistrict(q, { name: "d-ops", profile: "small", uidCount: 100 }))
  ).id;
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await stopStore(f);
});

/** Starts a broker process on a chain and SIGKILLs it once the chain is in its slow step. */
async function killedMidChain(args: ChainArgs): Promise<string> {
  const opId = newId();
  const child = spawnScript("chain-worker.ts", {
    connection: f.connection,
    owner: "broker-a",
    leaseMs: LEASE_MS,
    opId,
    args,
  });
  children.push(child);
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes(`started ${opId}`)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`chain-worker exited ${code} before its slow step: ${err}`)));
  });
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  return opId;
}

const freeUids = async () => (await districts.getDistrict(f.db, districtId))!.availableUids;
const args = (): ChainArgs => ({ districtId, gearId: newId(), node: "node-ops" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a chain whose broker was SIGKILLed is claimed by another after the lease and completed", async () => {
  const a = args();
  const before = await freeUids();
  const opId = await killedMidChain(a);
  const op = await getOp(f.db, opId);
  expect(op).toMatchObject({ state: "running", currentStep: 2, claimedBy: "broker-a" });
  expect(op.steps.map((s) => s.state)).toEqual(["done", "done", "started", "pending"]);
  expect(await freeUids()).toBe(before - 1);

  const steps = chainSteps(f.db, { slow: "pass" });
  const b = new OpEngine(f.db, { owner: "broker-b", leaseMs: LEASE_MS, steps: () => steps });
  // the dead broker's lease still runs: nothing to claim yet
  expect(await b.resumeAbandoned()).toEqual([]);
  await sleep(LEASE_MS + 300);
  const results = await b.resumeAbandoned();
  expect(results.map((r) => [r.op.id, r.state])).toEqual([[opId, "done"]]);
  const done = await getOp(f.db, opId);
  expect(done).toMatchObject({ state: "done", claimedBy: null, claimedUntil: null });
  expect(done.steps.map((s) => [s.name, s.state])).toEqual([
    ["reserve", "done"],
    ["seen", "done"],
    ["slow", "done"],
    ["record", "done"],
  ]);
  // the reservation the dead broker made is the one the chain finished with: no UID leaked or doubled
  const uid = (done.steps[0].undo as { uid: number }).uid;
  expect(done.steps[3].undo).toEqual({ recorded: uid });
  expect((await districts.listReservedUids(f.db, districtId)).filter((r) => r.holder === a.gearId)).toEqual([
    { uid, holder: a.gearId },
  ]);
  expect(await freeUids()).toBe(before - 1);

  // the dead broker's lease is fenced: a write under its name now fails
  await expect(
    saveOp(f.db, opId, "broker-a", LEASE_MS, {
      steps: done.steps,
      currentStep: 4,
      state: "running",
      error: null,
    }),
  ).rejects.toBeInstanceOf(LeaseLostError);
});

test("a resumed chain whose step fails is rolled back in reverse, its UID back in the pool", async () => {
  const before = await freeUids();
  const opId = await killedMidChain(args());
  await sleep(LEASE_MS + 300);
  const undone: string[] = [];
  const steps = chainSteps(f.db, { slow: "fail", undone });
  const b = new OpEngine(f.db, { owner: "broker-b", leaseMs: LEASE_MS, steps: () => steps });
  const [r] = await b.resumeAbandoned();
  expect(r.state).toBe("failed");
  expect((r.error as Error).message).toBe("the node refused");
  // the failed step had started: its undo runs with null undo data, then the done steps, last first
  expect(undone).toEqual(["slow:null", "seen", "reserve"]);
  const op = await getOp(f.db, opId);
  expect(op).toMatchObject({
    state: "failed",
    claimedBy: null,
    error: { step: "slow", message: "the node refused" },
  });
  expect(op.steps.map((s) => s.state)).toEqual(["undone", "undone", "undone", "pending"]);
  expect(await freeUids()).toBe(before);
});

test("an undo that fails does not stop the others: the chain ends failed naming it, the UID is back", async () => {
  const before = await freeUids();
  const undone: string[] = [];
  const steps = chainSteps(f.db, { slow: "fail", slowUndoFails: true, undone });
  const e = new OpEngine(f.db, { owner: "broker-d", leaseMs: LEASE_MS, steps: () => steps });
  const r = await e.start("test.chain", null, chainOf(args()));
  expect(r.state).toBe("failed");
  expect((r.error as Error).message).toBe("the node refused");
  expect(undone).toEqual(["seen", "reserve"]);
  const op = await getOp(f.db, r.op.id);
  expect(op.error).toMatchObject({
    step: "slow",
    message: "the node refused; undo of slow failed: the node refused the undo too",
  });
  expect(op.steps.map((s) => s.state)).toEqual(["undone", "undone", "started", "pending"]);
  expect(await freeUids()).toBe(before);
});

test("with resume: rollback, a chain found going forward is undone", async () => {
  const before = await freeUids();
  const opId = await killedMidChain(args());
  await sleep(LEASE_MS + 300);
  const undone: string[] = [];
  const steps = chainSteps(f.db, { slow: "pass", undone });
  const b = new OpEngine(f.db, {
    owner: "broker-c",
    leaseMs: LEASE_MS,
    steps: () => steps,
    resume: "rollback",
  });
  const [r] = await b.resumeAbandoned();
  expect(r).toMatchObject({
    state: "failed",
    op: { id: opId, error: { message: expect.stringMatching(/stopped/) } },
  });
  expect(undone).toEqual(["slow:null", "seen", "reserve"]);
  expect(await freeUids()).toBe(before);
});

test("two brokers resuming at once take different chains; each chain runs once", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const op = await insertOp(f.db, {
      kind: "create",
      appId: null,
      steps: chainOf(args()),
      owner: "gone",
      leaseMs: 100,
    });
    ids.push(op.id);
  }
  await sleep(200);
  const runs: string[] = [];
  const table = (owner: string) => {
    const steps = chainSteps(f.db, { slow: "pass" });
    return {
      ...steps,
      record: {
        ...steps.record,
        run: async (ctx: Parameters<typeof steps.record.run>[0]) => {
          runs.push(`${owner}:${ctx.op.id}`);
          return steps.record.run(ctx);
        },
      },
    };
  };
  const e1 = new OpEngine(f.db, { owner: "broker-1", leaseMs: 5000, steps: () => table("broker-1") });
  const e2 = new OpEngine(f.db, { owner: "broker-2", leaseMs: 5000, steps: () => table("broker-2") });
  const [r1, r2] = await Promise.all([e1.resumeAbandoned(), e2.resumeAbandoned()]);
  const finished = [...r1, ...r2].map((r) => r.op.id).sort();
  expect(finished).toEqual([...ids].sort());
  expect(runs).toHaveLength(6);
  expect(new Set(runs.map((r) => r.split(":")[1])).size).toBe(6);
  expect(await claimNextOp(f.db, "broker-3", 1000)).toBeNull();
});

test("bad chains name the field and write nothing", async () => {
  await expect(
    insertOp(f.db, { kind: "Create!", appId: null, steps: [{ name: "a" }], owner: "b", leaseMs: 1000 }),
  ).rejects.toMatchObject({ field: "kind" });
  await expect(
    insertOp(f.db, { kind: "create", appId: null, steps: [], owner: "b", leaseMs: 1000 }),
  ).rejects.toMatchObject({ field: "steps" });
  await expect(
    insertOp(f.db, { kind: "create", appId: null, steps: [{ name: "9x" }], owner: "b", leaseMs: 1000 }),
  ).rejects.toMatchObject({ field: "steps[0].name" });
  await expect(
    insertOp(f.db, { kind: "create", appId: "x", steps: [{ name: "a" }], owner: "b", leaseMs: 1000 }),
  ).rejects.toMatchObject({ field: "application_id" });
  await expect(
    insertOp(f.db, { kind: "create", appId: null, steps: [{ name: "a" }], owner: "b c", leaseMs: 1000 }),
  ).rejects.toMatchObject({ field: "owner" });
  expect(await claimNextOp(f.db, "broker-3", 1000)).toBeNull();
});
