// 50 gears created concurrently: 5 processes × 10 concurrent creates each (cross-process and in-process
// concurrency). No collision, all inspect clean; destroy (concurrent too) leaves no user, group, home, cgroup.

import { spawn } from "child_process";
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { destroyGear, inspectGear, listGears } from "../../node/gear/lifecycle";
import { makeTestNode, newUuid, REPO, TestNode, traces } from "./helpers";

jest.setTimeout(300_000);

let node: TestNode;
beforeAll(async () => {
  node = await makeTestNode("conc", 61200);
});
afterAll(async () => {
  await node?.cleanup();
});

/** A worker process: creates the gears given on stdin, concurrently, with the compiled library. */
const WORKER = `
const { makeContext } = require(${JSON.stringify(path.join(REPO, "dist/node/context"))});
const { createGear } = require(${JSON.stringify(path.join(REPO, "dist/node/gear/lifecycle"))});
let input = "";
process.stdin.on("data", (d) => (input += d)).on("end", async () => {
  const ctx = await makeContext();
  const specs = JSON.parse(input);
  const results = await Promise.allSettled(specs.map((s) => createGear(ctx, s, { inspect: false })));
  const failed = results.filter((r) => r.status === "rejected").map((r) => String(r.reason && r.reason.message));
  process.stdout.write(JSON.stringify({ ok: results.length - failed.length, failed }));
});
`;

function worker(specs: unknown[]): Promise<{ ok: number; failed: string[] }> {
  const file = path.join(node.dir, "worker.js");
  writeFileSync(file, WORKER);
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [file], { env: node.env, stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exit ${code}: ${out}`)),
    );
    c.stdin.end(JSON.stringify(specs));
  });
}

test("50 concurrent creates: no collision, all clean; concurrent destroy leaves nothing", async () => {
  const specs = Array.from({ length: 50 }, (_, i) => ({
    uuid: newUuid(),
    uid: node.uid(i),
    app: `app${i}`,
    namespace: "conc",
    profile: "small",
  }));
  const t0 = Date.now();
  const results = await Promise.all([0, 1, 2, 3, 4].map((w) => worker(specs.slice(w * 10, w * 10 + 10))));
  const createMs = Date.now() - t0;
  expect(results.flatMap((r) => r.failed)).toEqual([]);
  expect(results.reduce((n, r) => n + r.ok, 0)).toBe(50);

  const listed = await listGears(node.ctx);
  expect(listed.map((g) => g.uuid).sort()).toEqual(specs.map((s) => s.uuid).sort());
  expect(new Set(listed.map((g) => g.uid)).size).toBe(50);
  for (const s of specs) {
    const st = await inspectGear(node.ctx, s.uuid);
    expect([s.uuid, st.drift]).toEqual([s.uuid, []]);
    expect(st.uid).toBe(s.uid);
  }
  const t1 = Date.now();
  const destroyed = await Promise.all(specs.map((s) => destroyGear(node.ctx, s.uuid)));
  const destroyMs = Date.now() - t1;
  expect(destroyed.every((d) => d.destroyed)).toBe(true);
  for (const s of specs) expect([s.uuid, traces(node, s.uuid)]).toEqual([s.uuid, []]);
  expect(await listGears(node.ctx)).toEqual([]);
  console.log(`50 concurrent creates: ${createMs} ms (5 processes); 50 concurrent destroys: ${destroyMs} ms`);
});

test("the same gear created by 6 processes at once: one gear, all succeed, per-gear lock holds", async () => {
  const { cli } = await import("./helpers");
  const spec = { uuid: newUuid(), uid: node.uid(60), app: "same", namespace: "conc", profile: "small" };
  const rs = await Promise.all(
    Array.from({ length: 6 }, () => cli(node, ["gear", "create"], JSON.stringify(spec))),
  );
  expect(rs.map((r) => [r.code, r.stderr])).toEqual(Array.from({ length: 6 }, () => [0, ""]));
  expect(
    readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .filter((l) => l.startsWith(`${spec.uuid}:`)),
  ).toHaveLength(1);
  expect((await inspectGear(node.ctx, spec.uuid)).drift).toEqual([]);
  const ds = await Promise.all(Array.from({ length: 3 }, () => cli(node, ["gear", "destroy", spec.uuid])));
  expect(ds.map((r) => r.code)).toEqual([0, 0, 0]);
  expect(ds.filter((r) => (r.json as { destroyed: boolean }).destroyed)).toHaveLength(1);
  expect(traces(node, spec.uuid)).toEqual([]);
});
