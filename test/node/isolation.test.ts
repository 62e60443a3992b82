// Isolation, measured on the real host: files, signals, memory (OOM), pids (fork bomb). CPU: cpu.test.ts.

import { execFileSync } from "child_process";
import { readFileSync } from "fs";
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
