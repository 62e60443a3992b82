// Benchmark: applications declared in a stack (issue #12), in one run against baselines measured in the same run:
//
//   (a) `pulumi up` of a stack of N Applications (bench/projects/apps: the static web cartridge, the
//       BrokerApp provider under each) against the same N creates sent at once through the broker's REST API
//       with the typed client (clients/broker, as `geartrain app create` does): same control plane, same
//       user and token, same domain. Goal ≤ 1.5×.
//   (b) `pulumi preview --refresh` of those N applications against `preview --refresh` of a stack of N dynamic
//       resources whose provider does nothing (the engine's own floor); a stack with no resource gives the
//       fixed cost of a command, so the per-resource figures are (T − T_empty) / N. Goal: per app ≤ 2× the
//       floor's per resource.
//
//   npm run build && bash scripts/toolchain.sh
//   flock /tmp/geartrain-heavy.lock node dist/bench/apps-stack.js [--apps 50] [--runs 2] [--refreshes 3] [--parallel P]
//
// The control plane is test/helpers/services/control-plane.ts (the one bench/app-create.ts uses): private
// PostgreSQL, BIND, ActiveMQ, one broker process, one agent process (concurrency 4) on a node `benchstk` with
// its private nginx. UIDs 65200–65299 (docs/node-operations.md): district d1. The engine runs with a file
// backend in a temporary directory. Each run: the N REST creates (timed), their N deletes (timed), `up` of the
// apps stack (timed), the refresh previews alternating apps / floor / empty, `destroy` (timed). At the end
// every gear of the node is destroyed, the stacks' directory removed and the control plane stopped (its
// node's users, homes, cgroups, netfilter table). As root. Output: tables and one JSON line.

import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import { parseArgs } from "util";
import { BrokerClient } from "../clients/broker";
import { destroyGear, listGears } from "../node";
import { REPO_ROOT } from "../test/helpers/repo-root";
import { startControlPlane, type ControlPlane } from "../test/helpers/services/control-plane";
import { BENCH_GECOS, clock, hostInfo, loadAvg, pct, row, runBench } from "./lib";

const UID_BASE = 65200;
const CAPACITY = 100;
const NS = "ns1";
const PROJECT = path.join(REPO_ROOT, "bench/projects/apps");
const ADMIN_PW = randomBytes(12).toString("hex");
const DEV_PW = randomBytes(12).toString("hex");

interface Cli {
  readonly code: number;
  readonly out: string;
}

/** One stack of the bench project in the scratch backend; commands run through scripts/env.sh. */
class Stack {
  readonly name: string;
  readonly configFile: string;
  constructor(
    private readonly scratch: string,
    kind: string,
    private readonly parallel: string | undefined,
  ) {
    this.name = `bench-${kind}-${process.pid}`;
    this.configFile = path.join(scratch, `Pulumi.${this.name}.yaml`);
    fs.writeFileSync(this.configFile, "config: {}\n");
  }

  run(args: string[]): Promise<Cli> {
    const extra = ["--non-interactive"];
    if (args[0] !== "stack") extra.push("--stack", this.name, "--config-file", this.configFile);
    if (this.parallel && ["up", "preview", "destroy", "refresh"].includes(args[0]))
      extra.push("--parallel", this.parallel);
    return new Promise((resolve, reject) => {
      const child = spawn(
        "bash",
        ["-c", 'source "$GT_ENV_SH" && exec pulumi "$@"', "pulumi", ...args, ...extra],
        {
          cwd: PROJECT,
          env: {
            ...process.env,
            GT_ENV_SH: path.join(REPO_ROOT, "scripts/env.sh"),
            PULUMI_BACKEND_URL: `file://${this.scratch}/state`,
            PULUMI_CONFIG_PASSPHRASE: "geartrain-bench",
            PULUMI_CONFIG_PASSPHRASE_FILE: "",
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code: code ?? -1, out }));
    });
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} (${this.name}) exited ${r.code}:\n${r.out}`);
    return r.out;
  }

  /** Creates the stack and moves the salt the engine wrote beside Pulumi.yaml into the scratch config file. */
  async init(config: Record<string, string>, secrets: Record<string, string> = {}): Promise<void> {
    await this.ok(["stack", "init", this.name, "--secrets-provider", "passphrase"]);
    const written = path.join(PROJECT, `Pulumi.${this.name}.yaml`);
    if (fs.existsSync(written)) {
      fs.appendFileSync(this.configFile, "\n" + fs.readFileSync(written, "utf8"));
      fs.rmSync(written);
    }
    for (const [k, v] of Object.entries(config)) await this.ok(["config", "set", k, v]);
    for (const [k, v] of Object.entries(secrets)) await this.ok(["config", "set", "--secret", k, v]);
  }
}

/** `f` timed; throws when the command fails. */
async function timed(f: () => Promise<unknown>): Promise<number> {
  return clock(f);
}

/** Runs `tasks` with at most `c` at once (the engine's --parallel); the wall time in ms. */
async function limited(c: number, tasks: (() => Promise<unknown>)[]): Promise<number> {
  let next = 0;
  return clock(() =>
    Promise.all(
      Array.from({ length: Math.min(c, tasks.length) }, async () => {
        while (next < tasks.length) await tasks[next++]();
      }),
    ),
  );
}

/**
 * Where a refresh's time goes, outside the engine: N apps made over REST, then N of each at `c` at once:
 * the provider's read (operations.js, as the engine's refresh calls it) and each request it makes alone.
 */
async function profileReads(client: BrokerClient, server: string, token: string, n: number, c: number) {
  type Ops = typeof import("../providers/application/operations");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ops = require(path.join(REPO_ROOT, "dist/providers/application/operations.js")) as Ops;
  const names = Array.from({ length: n }, (_, i) => `q${i}`);
  await Promise.all(names.map((name) => client.createApplication(NS, { name, cartridges: ["static-1.0"] })));
  const outs = await Promise.all(
    names.map(async (name) => {
      const { inputs } = await ops.check(undefined, {
        connection: { server, token },
        domain: NS,
        name,
        webCartridge: "static-1.0",
      });
      return (await ops.read("", inputs as never)).props;
    }),
  );
  const each = (f: (i: number) => Promise<unknown>) => names.map((_, i) => () => f(i));
  const rows = [];
  for (let k = 0; k < 2; k++) {
    rows.push({
      what: "provider read (operations.js)",
      ms: await limited(
        c,
        each((i) => ops.read("", outs[i])),
      ),
    });
    rows.push({
      what: "GET /api (links)",
      ms: await limited(
        c,
        each(() => client.withCredentials({ token }).links()),
      ),
    });
    rows.push({
      what: "GET application",
      ms: await limited(
        c,
        each((i) => client.application(NS, names[i])),
      ),
    });
    rows.push({
      what: "live state (GET app + live-state)",
      ms: await limited(
        c,
        each((i) => client.liveState(NS, names[i])),
      ),
    });
    rows.push({
      what: "env (GET app + env)",
      ms: await limited(
        c,
        each((i) => client.listEnv(NS, names[i])),
      ),
    });
  }
  await Promise.all(names.map((name) => client.deleteApplication(NS, name)));
  return rows.map((r) => ({ ...r, ms: Math.round(r.ms), perApp: +(r.ms / n).toFixed(1), at: c }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      apps: { type: "string", default: "50" },
      runs: { type: "string", default: "2" },
      refreshes: { type: "string", default: "3" },
      parallel: { type: "string" },
      profile: { type: "boolean", default: false },
    },
  });
  const n = Number(values.apps);
  const runs = Number(values.runs);
  const refreshes = Number(values.refreshes);
  if (process.getuid?.() !== 0) throw new Error("run the benchmarks as root");
  if (!fs.existsSync(path.join(REPO_ROOT, ".geartrain/bin/pulumi")))
    throw new Error("the Pulumi toolchain is not set up: run `npm run setup` first");
  if (!fs.existsSync(path.join(REPO_ROOT, "dist/providers/application/operations.js")))
    throw new Error(
      "dist/ is not built (the BrokerApp provider runs compiled code): run `npm run build` first",
    );
  const cp: ControlPlane = await startControlPlane({
    node: "benchstk",
    uidBase: UID_BASE,
    capacity: CAPACITY,
    agent: "process",
    agentConcurrency: 4,
    nodeConfig: { gecos: BENCH_GECOS },
    adminPassword: ADMIN_PW,
    developer: { login: "bench", password: DEV_PW, domain: NS },
  });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-bench-apps-"));
  fs.mkdirSync(path.join(scratch, "state"));
  try {
    console.log(JSON.stringify({ start: hostInfo(cp.node.ctx) }));
    const server = cp.brokers[0].url;
    const basic = new BrokerClient({ server, credentials: { login: "bench", password: DEV_PW } });
    const token = (await basic.addAuthorization({ scope: "session", note: "bench" })).token!;
    const client = basic.withCredentials({ token });

    const apps = new Stack(scratch, "apps", values.parallel);
    const floor = new Stack(scratch, "floor", values.parallel);
    const empty = new Stack(scratch, "empty", values.parallel);
    await apps.init({ kind: "apps", count: String(n), server, domain: NS }, { token });
    await floor.init({ kind: "trivial", count: String(n) });
    await empty.init({ kind: "trivial", count: "0" });
    await floor.ok(["up", "--yes", "--skip-preview"]);
    await empty.ok(["up", "--yes", "--skip-preview"]);

    const gears = async () => (await listGears(cp.node.ctx)).length;
    const t: Record<string, number[]> = {
      restCreate: [],
      restDelete: [],
      up: [],
      destroy: [],
      refreshApps: [],
      refreshFloor: [],
      refreshEmpty: [],
    };
    const loads: string[] = [loadAvg()];
    for (let run = 0; run < runs; run++) {
      // (a) the N creates at once through the client, then pulumi up of the same N
      const names = Array.from({ length: n }, (_, i) => `r${i}`);
      t.restCreate.push(
        await timed(() =>
          Promise.all(
            names.map((name) => client.createApplication(NS, { name, cartridges: ["static-1.0"] })),
          ),
        ),
      );
      if ((await gears()) !== n)
        throw new Error(`after the REST creates the node has ${await gears()} gears`);
      t.restDelete.push(
        await timed(() => Promise.all(names.map((name) => client.deleteApplication(NS, name)))),
      );
      if ((await gears()) !== 0)
        throw new Error(`after the REST deletes the node has ${await gears()} gears`);
      t.up.push(await timed(() => apps.ok(["up", "--yes", "--skip-preview"])));
      if ((await gears()) !== n) throw new Error(`after pulumi up the node has ${await gears()} gears`);
      loads.push(loadAvg());
      // (b) preview --refresh: apps, floor, empty, alternating; each must show no change
      for (let i = 0; i < refreshes; i++) {
        const refresh = ["preview", "--refresh", "--expect-no-changes"];
        t.refreshApps.push(await timed(() => apps.ok(refresh)));
        t.refreshFloor.push(await timed(() => floor.ok(refresh)));
        t.refreshEmpty.push(await timed(() => empty.ok(refresh)));
      }
      t.destroy.push(await timed(() => apps.ok(["destroy", "--yes", "--skip-preview"])));
      if ((await gears()) !== 0) throw new Error(`after pulumi destroy the node has ${await gears()} gears`);
      loads.push(loadAvg());
      console.log(
        JSON.stringify({
          run: run + 1,
          ms: Object.fromEntries(
            Object.entries(t).map(([k, xs]) => [k, xs.slice(-refreshes).map(Math.round)]),
          ),
          load: loadAvg(),
        }),
      );
    }
    await floor.ok(["destroy", "--yes", "--skip-preview"]);
    if (values.profile)
      console.table(await profileReads(client, server, token, n, Number(values.parallel ?? 8)));
    const p50 = (k: string) => pct(t[k], 50);
    const upRatio = +(p50("up") / p50("restCreate")).toFixed(2);
    const perApp = (p50("refreshApps") - p50("refreshEmpty")) / n;
    const perFloor = (p50("refreshFloor") - p50("refreshEmpty")) / n;
    const refreshRatio = +(perApp / perFloor).toFixed(2);
    const rows = Object.entries(t).map(([k, xs]) => row(k, xs));
    console.table(rows);
    const result = {
      bench: "apps-stack",
      apps: n,
      runs,
      refreshes,
      parallel: values.parallel ?? "engine default",
      upOverRest: upRatio,
      upGoal: upRatio <= 1.5 ? "met" : "missed",
      refreshPerAppMs: +perApp.toFixed(1),
      refreshPerFloorMs: +perFloor.toFixed(1),
      refreshPerResourceRatio: refreshRatio,
      refreshWholeRatio: +(p50("refreshApps") / p50("refreshFloor")).toFixed(2),
      refreshGoal: refreshRatio <= 2 ? "met" : "missed",
      loads,
      end: hostInfo(cp.node.ctx),
    };
    console.log(JSON.stringify({ rows, ...result }));
  } finally {
    for (const g of await listGears(cp.node.ctx).catch(() => []))
      await destroyGear(cp.node.ctx, g.uuid).catch(() => undefined);
    fs.rmSync(scratch, { recursive: true, force: true });
    for (const f of fs.readdirSync(PROJECT))
      if (/^Pulumi\.bench-.*\.yaml$/.test(f)) fs.rmSync(path.join(PROJECT, f), { force: true });
    await cp.stop();
  }
}

runBench(main);
