// Benchmark: gear create/destroy latency against a floor measured in the same run, then 1,000 gears.
//
//   npm run build && sudo node dist/bench/gear-lifecycle.js [--gears 100] [--bulk 1000]   (--bulk 0: none)
//
// The floor is a bare sequence of the same host work with no checks, locks, markers or read-back:
// groupadd, useradd, mkdir + chown + chmod of every home dir, the env files, cgroup mkdir + limit writes,
// the gear's nftables elements (one nft -f, when the node isolates with nftables); and userdel, rm -rf,
// rmdir, the nft delete for destroy. Floor and Geartrain alternate gear by gear so that load from
// other work on the machine hits both alike. Output: a table and one JSON line.

import { execFile } from "child_process";
import { promises as fs, readFileSync } from "fs";
import * as path from "path";
import { parseArgs, promisify } from "util";
import { resolveConfig } from "../node/config";
import { makeContext, NodeContext } from "../node/context";
import { createGear, destroyGear, listGears } from "../node/gear/lifecycle";
import { homeLayout } from "../node/gear/home";
import { run } from "../node/host/exec";
import { isolationSupport, NFT, renderNftGear } from "../node/host/netfilter";
import type { GearSpec } from "../node/types";
import { randomBytes } from "crypto";
import { benchNode, clock, hostInfo, ratio, row, runBench } from "./lib";

const exec = promisify(execFile);
const PATH_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
/** its district: 2,000 UIDs for the 1,000 bulk gears (docs/node-operations.md lists the UID blocks) */
const FIRST_UID = 62000;
const LAST_UID = 63999;

function memInfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of readFileSync("/proc/meminfo", "utf8").split("\n")) {
    const m = /^(\w+):\s+(\d+)/.exec(l);
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

async function floorCreate(ctx: NodeContext, spec: GearSpec, home: string): Promise<void> {
  const uid = String(spec.uid);
  await exec("groupadd", ["-g", uid, spec.uuid], { env: PATH_ENV });
  await exec(
    "useradd",
    [
      "--badname",
      "-M",
      "-N",
      "-l",
      "-u",
      uid,
      "-g",
      uid,
      "-d",
      home,
      "-s",
      "/bin/bash",
      "-c",
      "bench floor",
      spec.uuid,
    ],
    { env: PATH_ENV },
  );
  for (const e of homeLayout(spec, ctx.config)) {
    const p = e.rel === "." ? home : path.join(home, e.rel);
    if (e.type === "dir") await fs.mkdir(p);
    else if (e.type === "file") await fs.writeFile(p, e.content ?? "");
    else {
      await fs.symlink(e.content!, p);
      continue;
    }
    await fs.chown(p, e.owner === "root" ? 0 : spec.uid, e.group === "root" ? 0 : spec.uid);
    await fs.chmod(p, e.mode);
  }
  const limits = ctx.config.profiles[spec.profile];
  const cg = ctx.cgroup;
  for (const d of cg.gearDirs(spec.uuid)) await fs.mkdir(d, { recursive: true });
  for (const f of cg.desiredFiles(limits)) {
    const dir =
      cg.gearDirs(spec.uuid).find((d) => d.includes(`/${f.controller}/`)) ?? cg.gearDirs(spec.uuid)[0];
    await fs.writeFile(path.join(dir, f.file), f.value);
  }
  await floorNetwork(ctx, "add", spec.uid);
}

/** The gear's isolation elements, applied with one nft -f (nothing when the node does not use nftables). */
async function floorNetwork(ctx: NodeContext, op: "add" | "delete", uid: number): Promise<void> {
  if ((await isolationSupport(ctx)).mode !== "nftables") return;
  const r = await run([NFT, "-f", "-"], { input: renderNftGear(ctx.config.network.table, op, uid) });
  if (r.code !== 0) throw new Error(`nft ${op} element: ${r.stderr.trim()}`);
}

async function floorDestroy(ctx: NodeContext, spec: GearSpec, home: string): Promise<void> {
  await exec("userdel", [spec.uuid], { env: PATH_ENV });
  await exec("groupdel", [spec.uuid], { env: PATH_ENV }).catch(() => undefined); // usually gone with the user
  await fs.rm(home, { recursive: true, force: true });
  for (const d of ctx.cgroup.gearDirs(spec.uuid)) await fs.rmdir(d);
  await floorNetwork(ctx, "delete", spec.uid);
}

/** `bulk` gears on one node, 8 creates at a time: the time, what listGears sees, memory and disk. */
async function bulkGears(ctx: NodeContext, bulk: number, spec: (i: number) => GearSpec) {
  const m0 = memInfo();
  const bulkSpecs = Array.from({ length: bulk }, (_, i) => spec(i));
  const tb0 = Date.now();
  for (let i = 0; i < bulk; i += 8) {
    await Promise.all(bulkSpecs.slice(i, i + 8).map((s) => createGear(ctx, s, { inspect: false })));
  }
  const createS = (Date.now() - tb0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const m1 = memInfo();
  const du = await exec("du", ["-sk", ctx.config.gearBaseDir], { env: PATH_ENV });
  const listed = (await listGears(ctx)).length;
  const tb1 = Date.now();
  for (let i = 0; i < bulk; i += 8) {
    await Promise.all(bulkSpecs.slice(i, i + 8).map((s) => destroyGear(ctx, s.uuid)));
  }
  const destroyS = (Date.now() - tb1) / 1000;
  const used = (m: Record<string, number>) => m.MemTotal - m.MemAvailable;
  const memory = {
    usedDeltaMiB: +((used(m1) - used(m0)) / 2 ** 20).toFixed(1),
    slabDeltaMiB: +((m1.Slab - m0.Slab) / 2 ** 20).toFixed(1),
    percpuDeltaMiB: +(((m1.Percpu ?? 0) - (m0.Percpu ?? 0)) / 2 ** 20).toFixed(1),
    perGearKiB: +((used(m1) - used(m0)) / 1024 / bulk).toFixed(1),
    homesDiskKiB: Number(du.stdout.split("\t")[0]),
  };
  console.log(
    `\n${bulk} gears (8 concurrent creates): listed ${listed}; create ${createS.toFixed(1)} s, destroy ${destroyS.toFixed(1)} s`,
  );
  console.log("idle memory cost (MemTotal-MemAvailable delta, machine shared):", memory);
  return { gears: bulk, listed, createS, destroyS, memory };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { gears: { type: "string", default: "100" }, bulk: { type: "string", default: "1000" } },
  });
  const n = Number(values.gears);
  const bulk = Number(values.bulk);
  const node = await benchNode("lifecycle", FIRST_UID, {
    district: { firstUid: FIRST_UID, maxUid: LAST_UID },
  });
  const { config, ctx } = node;
  const dir = node.dir;
  await fs.mkdir(path.join(dir, "floor"));
  const floorCtx = await makeContext(
    resolveConfig({ ...config, cgroup: { rootName: `${config.cgroup.rootName}-floor` } }),
  );
  console.log("machine at the start:", hostInfo(ctx));
  const spec = (i: number, base: number): GearSpec => ({
    uuid: randomBytes(16).toString("hex"),
    uid: base + i,
    app: `app${i}`,
    namespace: "bench",
    profile: "small",
    env: {},
  });
  const floorMade: GearSpec[] = [];
  try {
    // warm-up (first exec of each tool, module loading)
    const w = spec(0, LAST_UID - 9);
    await createGear(ctx, w, { inspect: false });
    await destroyGear(ctx, w.uuid);

    const floorSpecs = Array.from({ length: n }, (_, i) => spec(i, FIRST_UID));
    const gearSpecs = Array.from({ length: n }, (_, i) => spec(i, FIRST_UID + 500));
    const fc: number[] = [];
    const gc: number[] = [];
    const fd: number[] = [];
    const gd: number[] = [];
    for (let i = 0; i < n; i++) {
      floorMade.push(floorSpecs[i]);
      fc.push(
        await clock(() => floorCreate(floorCtx, floorSpecs[i], path.join(dir, "floor", floorSpecs[i].uuid))),
      );
      gc.push(await clock(() => createGear(ctx, gearSpecs[i], { inspect: false })));
    }
    for (let i = 0; i < n; i++) {
      fd.push(
        await clock(() => floorDestroy(floorCtx, floorSpecs[i], path.join(dir, "floor", floorSpecs[i].uuid))),
      );
      floorMade.splice(floorMade.indexOf(floorSpecs[i]), 1);
      gd.push(await clock(() => destroyGear(ctx, gearSpecs[i].uuid)));
    }
    const lat = [
      row("create floor", fc, 1),
      row("create geartrain", gc, 1),
      row("destroy floor", fd, 1),
      row("destroy geartrain", gd, 1),
    ];
    const ratios = {
      createP50: ratio(gc, fc, 50),
      createP95: ratio(gc, fc, 95),
      destroyP50: ratio(gd, fd, 50),
      destroyP95: ratio(gd, fd, 95),
    };
    console.log(`\n${n} gears, sequential (ms):`);
    console.table(lat);
    console.log("ratios geartrain/floor:", ratios);

    const bulkResult = bulk > 0 ? await bulkGears(ctx, bulk, (i) => spec(i, FIRST_UID)) : null;
    const host = hostInfo(ctx);
    console.log("machine at the end:", host);
    console.log(
      JSON.stringify({
        host,
        n,
        latencyMs: lat,
        ratios,
        bulk: bulkResult,
      }),
    );
  } finally {
    for (const f of floorMade) {
      await exec("userdel", [f.uuid], { env: PATH_ENV }).catch(() => undefined);
      await exec("groupdel", [f.uuid], { env: PATH_ENV }).catch(() => undefined);
      for (const d of floorCtx.cgroup.gearDirs(f.uuid)) await fs.rmdir(d).catch(() => undefined);
    }
    await node.cleanup();
  }
}

runBench(main);
