// Benchmark: an application created through the whole control plane against the bare node operations for
// the same application, in one run; then 20 creates at once; the broker's and the agent's RSS.
//
//   npm run build && sudo node dist/bench/app-create.js [--runs 10] [--concurrent 20]
//
// The stack is test/helpers/services/control-plane.ts (the one integration/broker/stack uses): private
// PostgreSQL, BIND and ActiveMQ, a broker process (`geartrain broker run`), an agent process (`geartrain
// agent run`, concurrency 4) on a node with a private nginx. UIDs 64000–64099 (docs/node-operations.md):
// district d1 has 64000–64069, the bare gears take 64080–64099.
//
// - REST: POST /domain/ns1/applications {name, cartridges: ["nodejs-20"]} (broker → placement and UID →
//   gear.create → cartridge.install → keys → frontend.read → DNS record, each step a bus round trip or a
//   store transaction), then GET through nginx with Host `<app>-ns1.<zone>` every 10 ms until it answers 200
//   with the starter page. The app is deleted over REST after (not timed).
// - Bare: the node operations the agent runs for that app, called directly in this process: createGear,
//   installCartridge (which writes the gear's route: the web cartridge's frontend), readGearFrontend, then the
//   same poll. destroyGear after (not timed).
// REST and bare alternate app by app; one warm-up of each is not counted. Output: a table and one JSON line.

import { readFileSync } from "fs";
import { randomBytes } from "crypto";
import { parseArgs } from "util";
import { createGear, destroyGear, installCartridge, listGears, readGearFrontend } from "../node";
import { NsupdateDnsUpdater } from "../services/broker/dns";
import { api } from "../test/helpers/services/broker";
import { startControlPlane, type ControlPlane } from "../test/helpers/services/control-plane";
import { BENCH_GECOS, clock, hostInfo, pct, ratio, row, runBench, untilServed } from "./lib";

const UID_BASE = 64000;
const CAPACITY = 70;
const BARE_UID = UID_BASE + 80;
const NS = "ns1";
const ADMIN_PW = randomBytes(12).toString("hex");
const DEV_PW = randomBytes(12).toString("hex");

/** VmRSS of `pid` in MiB (0 when it is gone). */
function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? +(Number(m[1]) / 1024).toFixed(1) : 0;
  } catch {
    return 0;
  }
}

/** milliseconds of each part, per run: where the time of a create goes */
const parts: Record<string, number[]> = {};
async function part<T>(name: string, f: () => Promise<T>): Promise<T> {
  const s = process.hrtime.bigint();
  try {
    return await f();
  } finally {
    (parts[name] ??= []).push(Number(process.hrtime.bigint() - s) / 1e6);
  }
}

const served = (app: string) => (got: string) => got.startsWith("200 ") && got.includes(`Welcome to ${app}`);

async function restCreate(cp: ControlPlane, app: string, timed = false): Promise<void> {
  const b = cp.brokers[0];
  const post = () =>
    api(b, "POST", `/domain/${NS}/applications`, cp.developer, {
      name: app,
      cartridges: ["nodejs-20"],
    });
  const r = timed ? await part("rest: POST until 201", post) : await post();
  if (r.status !== 201) throw new Error(`create ${app}: ${r.status} ${JSON.stringify(r.body?.messages)}`);
  if (!timed) return untilServed(cp.node.nginx.port, `${app}-${NS}.${cp.zone}`, served(app));
  await part("rest: poll until served", () =>
    untilServed(cp.node.nginx.port, `${app}-${NS}.${cp.zone}`, served(app)),
  );
}

async function restDelete(cp: ControlPlane, app: string): Promise<void> {
  const r = await api(cp.brokers[0], "DELETE", `/domain/${NS}/application/${app}`, cp.developer);
  if (r.status !== 200 && r.status !== 204)
    throw new Error(`delete ${app}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** The bare node operations for one app; resolves with the gear's uuid once nginx serves its page. */
async function bareCreate(cp: ControlPlane, app: string, uid: number): Promise<string> {
  const ctx = cp.node.ctx;
  const uuid = randomBytes(16).toString("hex");
  await part("bare: createGear", () =>
    createGear(ctx, {
      uuid,
      uid,
      app,
      namespace: NS,
      appUuid: randomBytes(16).toString("hex"),
      profile: "small",
      env: {},
    }),
  );
  await part("bare: installCartridge", () => installCartridge(ctx, uuid, { name: "nodejs", version: "20" }));
  const route = await part("bare: readGearFrontend", () => readGearFrontend(ctx, uuid));
  if (!route) throw new Error(`${app}: no route after the install`);
  await part("bare: poll until served", () =>
    untilServed(cp.node.nginx.port, `${app}-${NS}.${cp.zone}`, served(app)),
  );
  return uuid;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "10" }, concurrent: { type: "string", default: "20" } },
  });
  const runs = Number(values.runs);
  const concurrent = Number(values.concurrent);
  if (process.getuid?.() !== 0) throw new Error("run the benchmarks as root");
  const cp = await startControlPlane({
    node: "benchapp",
    uidBase: UID_BASE,
    capacity: CAPACITY,
    agent: "process",
    agentConcurrency: 4,
    nodeConfig: { gecos: BENCH_GECOS },
    adminPassword: ADMIN_PW,
    developer: { login: "bench", password: DEV_PW, domain: NS },
  });
  const brokerPid = cp.brokers[0].child.pid;
  const dns = new NsupdateDnsUpdater(cp.bind.nsupdateConfig());
  try {
    console.log(JSON.stringify({ start: hostInfo(cp.node.ctx) }));
    const rss = {
      brokerRest: rssMiB(brokerPid),
      agentRest: rssMiB(cp.agentPid()),
      /** after the sequential runs, before the concurrent ones */
      brokerWarm: 0,
      agentWarm: 0,
      brokerPeak: 0,
      agentPeak: 0,
    };
    const rest: number[] = [];
    const bare: number[] = [];
    for (let i = -1; i < runs; i++) {
      const ra = `rest${i + 1}`;
      const tr = await clock(() => restCreate(cp, ra, true));
      // the REST layer, auth and a store read alone: GET of the app just made
      await part("rest: GET the app (REST + auth + store)", () =>
        api(cp.brokers[0], "GET", `/domain/${NS}/application/${ra}`, cp.developer),
      );
      await restDelete(cp, ra);
      const ba = `bare${i + 1}`;
      let uuid = "";
      const tb = await clock(async () => void (uuid = await bareCreate(cp, ba, BARE_UID + ((i + 1) % 20))));
      await destroyGear(cp.node.ctx, uuid);
      // the DNS step alone: one TSIG-signed nsupdate of the app's CNAME (removed after, not timed)
      const fqdn = `dns${i + 1}-${NS}.${cp.zone}`;
      await part("dns: nsupdate upsert", () =>
        dns.upsert([{ name: fqdn, type: "CNAME", value: cp.nodeHost, ttl: 60 }]),
      );
      await dns.remove([{ name: fqdn, type: "CNAME" }]);
      if (i < 0) for (const k of Object.keys(parts)) parts[k] = [];
      if (i >= 0) {
        rest.push(tr);
        bare.push(tb);
      }
    }
    rss.brokerWarm = rssMiB(brokerPid);
    rss.agentWarm = rssMiB(cp.agentPid());
    // 20 at once over REST: wall time to the last page served, each create's own time, RSS sampled every 50 ms
    const sampler = setInterval(() => {
      rss.brokerPeak = Math.max(rss.brokerPeak, rssMiB(brokerPid));
      rss.agentPeak = Math.max(rss.agentPeak, rssMiB(cp.agentPid()));
    }, 50);
    const each: number[] = [];
    const names = Array.from({ length: concurrent }, (_, i) => `many${i}`);
    const wall = await clock(() =>
      Promise.all(names.map(async (n) => each.push(await clock(() => restCreate(cp, n))))),
    );
    clearInterval(sampler);
    for (const n of names) await restDelete(cp, n);
    const rows = [row("REST create → page served", rest), row("bare node ops → page served", bare)];
    console.table(rows);
    const concurrentRow = row(`${concurrent} concurrent REST creates (each)`, each);
    console.table([concurrentRow]);
    const profile = Object.entries(parts).map(([k, xs]) => row(k, xs));
    console.table(profile);
    const result = {
      runs,
      ratioP50: ratio(rest, bare, 50),
      ratioP95: ratio(rest, bare, 95),
      goal: ratio(rest, bare, 50) <= 1.5 && ratio(rest, bare, 95) <= 1.5 ? "met" : "missed",
      concurrent: {
        n: concurrent,
        wallMs: Math.round(wall),
        appsPerSecond: +((concurrent * 1000) / wall).toFixed(2),
        p50: Math.round(pct(each, 50)),
        p95: Math.round(pct(each, 95)),
      },
      rssMiB: rss,
      end: hostInfo(cp.node.ctx),
    };
    console.log(JSON.stringify({ rows, concurrentRow, profile, ...result }));
  } finally {
    for (const g of await listGears(cp.node.ctx).catch(() => []))
      await destroyGear(cp.node.ctx, g.uuid).catch(() => undefined);
    await cp.stop();
  }
}

runBench(main);
