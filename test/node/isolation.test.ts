// Isolation, measured on the real host: files, signals, CPU weight and cap, memory (OOM), pids (fork bomb).

import { ChildProcess, execFileSync, spawn } from "child_process";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { createGear, destroyGear } from "../../node/gear/lifecycle";
import { runInGear, spawnInGear } from "../../node/gear/run-in-gear";
import { makeTestNode, newUuid, TestNode } from "./helpers";

jest.setTimeout(180_000);

const MiB = 2 ** 20;
let node: TestNode;
beforeAll(async () => {
  node = await makeTestNode("iso", 61100, {
    profiles: {
      tiny: {
        memoryBytes: 64 * MiB,
        swapBytes: 0,
        pids: 40,
        cpuWeight: 25,
        cpuMax: null,
        diskBytes: 16 * MiB,
        diskFiles: 4096,
      },
      capped: {
        memoryBytes: 64 * MiB,
        swapBytes: 0,
        pids: 40,
        cpuWeight: 25,
        cpuMax: 0.5,
        diskBytes: 16 * MiB,
        diskFiles: 4096,
      },
    },
  });
});
afterAll(async () => {
  await node?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gear = (uid: number, profile = "tiny") => ({
  uuid: newUuid(),
  uid,
  app: "iso",
  namespace: "test",
  profile,
});

test("gear A can neither read, list, write nor signal gear B", async () => {
  const a = gear(node.uid(1));
  const b = gear(node.uid(2));
  await createGear(node.ctx, a);
  await createGear(node.ctx, b);
  const bHome = path.join(node.config.gearBaseDir, b.uuid);
  const bProc = await spawnInGear(node.ctx, b.uuid, ["sleep", "60"], { stdio: "ignore" });
  await sleep(200);
  const tries: Record<string, string[]> = {
    read: ["cat", `${bHome}/.env/GEARTRAIN_GEAR_UUID`],
    list: ["ls", `${bHome}/app-root`],
    write: ["touch", `${bHome}/app-root/data/intruder`],
    signal: ["kill", "-0", String(bProc.pid)],
  };
  for (const [what, argv] of Object.entries(tries)) {
    const r = await runInGear(node.ctx, a.uuid, argv);
    expect([what, r.code === 0, r.stderr]).toEqual([
      what,
      false,
      expect.stringMatching(/Permission denied|not permitted/),
    ]);
  }
  // and B itself can (the checks above can fail for the right reason only)
  const own = await runInGear(node.ctx, b.uuid, ["cat", `${bHome}/.env/GEARTRAIN_GEAR_UUID`]);
  expect(own.stdout).toBe(b.uuid);
  bProc.kill("SIGKILL");
  await destroyGear(node.ctx, a.uuid);
  await destroyGear(node.ctx, b.uuid);
});

// ---------------------------------------------------------------- CPU

function cpuTimes(cpu: number): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${cpu} `))!;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((x, y) => x + y, 0);
  return { busy: total - f[3] - f[4], total }; // minus idle, iowait
}
const TICK_NS = 1e9 / 100; // USER_HZ

function pickCpu(): number {
  const n = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .filter((l) => /^cpu\d+ /.test(l)).length;
  const a = Array.from({ length: n }, (_, i) => cpuTimes(i));
  execFileSync("sleep", ["0.5"]);
  const b = Array.from({ length: n }, (_, i) => cpuTimes(i));
  let best = 0;
  for (let i = 1; i < n; i++) if (b[i].busy - a[i].busy < b[best].busy - a[best].busy) best = i;
  return best;
}

function hog(cpu: number): string[] {
  return ["taskset", "-c", String(cpu), "/bin/sh", "-c", "while :; do :; done"];
}

/** Usage of the gear (and optional sibling) over `ms`, plus what everything else ran on that CPU. */
async function measure(cpu: number, gearUuid: string, siblingAcct: string | null, ms: number) {
  const usage = () => ({
    gear: 0,
    sib: siblingAcct ? Number(readFileSync(siblingAcct, "utf8")) : 0,
  });
  const g0 = await node.ctx.cgroup.cpuUsageNs(gearUuid);
  const s0 = usage().sib;
  const c0 = cpuTimes(cpu);
  const t0 = process.hrtime.bigint();
  await sleep(ms);
  const g1 = await node.ctx.cgroup.cpuUsageNs(gearUuid);
  const s1 = usage().sib;
  const c1 = cpuTimes(cpu);
  const wall = Number(process.hrtime.bigint() - t0);
  const gearNs = g1 - g0;
  const sibNs = s1 - s0;
  const busyNs = (c1.busy - c0.busy) * TICK_NS;
  return {
    gearPct: (100 * gearNs) / wall,
    sibPct: (100 * sibNs) / wall,
    sharePct: (100 * gearNs) / (gearNs + sibNs || 1),
    foreignPct: Math.max(0, (100 * (busyNs - gearNs - sibNs)) / wall),
  };
}

/** Wait (up to 90 s) for a window in which other work takes < 10% of `cpu`, so "alone" means alone. */
async function quietWindow(cpu: number, gearUuid: string, sib: string | null): Promise<number> {
  let last = 100;
  for (let i = 0; i < 90; i++) {
    last = (await measure(cpu, gearUuid, sib, 1000)).foreignPct;
    if (last < 10) return last;
  }
  return last;
}

test("CPU: ~20% against a default-weight sibling on one CPU, ≥ 90% alone, capped by cpu.max", async () => {
  const g = gear(node.uid(3));
  await createGear(node.ctx, g);
  const cpu = pickCpu();
  // the default-weight competitor lives in a sibling group under the same Geartrain root (cpu.shares 1024)
  const cpuRoot = node.ctx.cgroup.rootDirs().find((d) => d.includes("/cpu/"))!;
  const acctRoot = node.ctx.cgroup.rootDirs().find((d) => d.includes("/cpuacct/"))!;
  for (const r of [cpuRoot, acctRoot]) mkdirSync(path.join(r, "sibling-hog"), { recursive: true });
  expect(readFileSync(path.join(cpuRoot, "sibling-hog/cpu.shares"), "utf8").trim()).toBe("1024");
  const sibAcct = path.join(acctRoot, "sibling-hog/cpuacct.usage");
  const procs: ChildProcess[] = [];
  try {
    const gh = await spawnInGear(node.ctx, g.uuid, hog(cpu), { stdio: "ignore" });
    procs.push(gh);
    const sh = spawn(hog(cpu)[0], hog(cpu).slice(1), { stdio: "ignore" });
    procs.push(sh);
    for (const r of [cpuRoot, acctRoot])
      writeFileSync(path.join(r, "sibling-hog/cgroup.procs"), String(sh.pid));
    await sleep(500);
    const foreignBefore = await quietWindow(cpu, g.uuid, sibAcct);
    const contended = await measure(cpu, g.uuid, sibAcct, 4000);
    sh.kill("SIGKILL");
    await sleep(300);
    const foreignAlone = await quietWindow(cpu, g.uuid, null);
    const alone = await measure(cpu, g.uuid, null, 4000);
    console.log(
      `CPU ${cpu}: contended gear ${contended.gearPct.toFixed(1)}% vs sibling ${contended.sibPct.toFixed(1)}% ` +
        `(gear share ${contended.sharePct.toFixed(1)}%, other load ${contended.foreignPct.toFixed(1)}%, before ${foreignBefore.toFixed(1)}%); ` +
        `alone ${alone.gearPct.toFixed(1)}% (other load ${alone.foreignPct.toFixed(1)}%, before ${foreignAlone.toFixed(1)}%)`,
    );
    // weight 25 vs 100 (v1 shares 256 vs 1024): the gear gets 20% of what the two contenders get
    expect(contended.sharePct).toBeGreaterThanOrEqual(15);
    expect(contended.sharePct).toBeLessThanOrEqual(25);
    // alone (no cap below one CPU in the small profile): at least 90% of the CPU
    expect(alone.gearPct).toBeGreaterThanOrEqual(90);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await destroyGear(node.ctx, g.uuid);
  }

  // the cap: cpuMax 0.5 → at most ~50% even alone
  const c = gear(node.uid(4), "capped");
  await createGear(node.ctx, c);
  try {
    const ch = await spawnInGear(node.ctx, c.uuid, hog(cpu), { stdio: "ignore" });
    procs.push(ch);
    await sleep(500);
    const capped = await measure(cpu, c.uuid, null, 3000);
    console.log(`CPU ${cpu}: capped gear (cpu.cfs_quota_us 50000) ${capped.gearPct.toFixed(1)}%`);
    expect(capped.gearPct).toBeLessThanOrEqual(55);
    expect(capped.gearPct).toBeGreaterThan(10);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await destroyGear(node.ctx, c.uuid);
  }
});

// ---------------------------------------------------------------- memory

test("memory: a gear allocating past its limit is OOM-killed; its neighbour survives", async () => {
  const a = gear(node.uid(5));
  const b = gear(node.uid(6));
  await createGear(node.ctx, a);
  await createGear(node.ctx, b);
  // neighbour B holds 20 MiB (under its 64 MiB) and stays alive
  const nb = await spawnInGear(node.ctx, b.uuid, [
    "perl",
    "-e",
    '$x = "b" x (20*1024*1024); $| = 1; print "ready\\n"; sleep 60',
  ]);
  await new Promise<void>((res) => nb.stdout!.once("data", () => res()));
  // A asks for 256 MiB against a 64 MiB limit (no swap on top)
  const r = await runInGear(
    node.ctx,
    a.uuid,
    ["perl", "-e", '$x = "a" x (256*1024*1024); print "survived\\n"'],
    { timeoutMs: 60_000 },
  );
  expect(r.stdout).not.toContain("survived");
  expect(r.signal).toBe("SIGKILL");
  expect(await node.ctx.cgroup.oomKills(a.uuid)).toBeGreaterThanOrEqual(1);
  expect(await node.ctx.cgroup.oomKills(b.uuid)).toBe(0);
  expect(nb.exitCode).toBeNull();
  expect(() => process.kill(nb.pid!, 0)).not.toThrow();
  nb.kill("SIGKILL");
  await destroyGear(node.ctx, a.uuid);
  await destroyGear(node.ctx, b.uuid);
});

// ---------------------------------------------------------------- pids

test("pids: a fork bomb is held at pids.max, the host keeps forking, destroy cleans it up", async () => {
  const g = gear(node.uid(7));
  await createGear(node.ctx, g);
  const pidsDir = node.ctx.cgroup.gearDirs(g.uuid).find((d) => d.includes("/pids/"))!;
  const bomb = await spawnInGear(node.ctx, g.uuid, ["/bin/sh", "-c", "b() { b | b & }; b; sleep 30"], {
    stdio: "ignore",
  });
  let peak = 0;
  for (let i = 0; i < 20; i++) {
    await sleep(100);
    peak = Math.max(peak, Number(readFileSync(path.join(pidsDir, "pids.current"), "utf8")));
  }
  const events = readFileSync(path.join(pidsDir, "pids.events"), "utf8");
  const refused = Number(/^max (\d+)$/m.exec(events)?.[1] ?? 0);
  console.log(`fork bomb: peak ${peak} tasks (pids.max 40), ${refused} forks refused`);
  expect(peak).toBeLessThanOrEqual(40);
  expect(peak).toBeGreaterThanOrEqual(20); // it really was bombing
  expect(refused).toBeGreaterThan(0);
  expect(execFileSync("true").toString()).toBe(""); // the host can still fork
  const d = await destroyGear(node.ctx, g.uuid);
  expect(d.destroyed).toBe(true);
  bomb.kill("SIGKILL");
});
