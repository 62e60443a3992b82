// Benchmark: cartridge install to first response (nodejs, python), against a by-hand floor in the same run.
//
//   npm run build && node dist/bench/cartridge-install.js [--runs 10]      # as root
//
// Each run takes a fresh gear (createGear, not timed) and times from the start of the install until nginx
// first answers 200 for the gear's host name (GET http://127.0.0.1:<port>/ with Host: <app>-bench.<domain>,
// polled every 10 ms). nginx is a private instance (test/helpers/private-nginx.ts), never the system one.
//
//   Geartrain: installCartridge(ctx, uuid, { name }, { frontend: nodeFrontend() }), then poll.
//   by hand:   the same steps as a bare script, with no records, checks, locks, templates engine, nginx -t
//              or undo: cp -R of the repository copy (minus usr/, which is linked) + chown -R; the same
//              ~/.env and env/ files written directly (values computed before the clock starts); bin/setup,
//              the starter app copy and bin/control start run as the gear user via setpriv, after joining
//              the gear's cgroups (a constant sh program that writes $$ to each cgroup.procs, then execs);
//              the same nginx file written (renderGearConf) + `nginx -s reload`; then poll.
//
// By hand and Geartrain alternate run by run (nodejs and python interleaved too), so load from other work
// on the machine hits both alike. Output: a table, the ratios and one JSON line.

import { spawn } from "child_process";
import { randomBytes } from "crypto";
import { promises as fs } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { loopbackAddress } from "../node/host/addresses";
import { desiredFrontend, nodeFrontend } from "../node/cartridge/frontend";
import {
  cartridgeDir,
  endpointBindings,
  allocateHostIds,
  ipNames,
  nodeCartridgeEnv,
} from "../node/cartridge/model";
import { installCartridge } from "../node/cartridge/install";
import { addToRepository, resolveCartridge } from "../node/cartridge/repository";
import type { NodeContext } from "../node/context";
import { GEAR_PATH } from "../node/gear/env";
import { validateFrontendSpec } from "../node/frontend/operations";
import { reloadArgv } from "../node/frontend/nginx";
import { startPrivateNginx } from "../test/helpers/private-nginx";
import { BASE_FILE, gearFileName, renderBaseConf, renderGearConf } from "../node/frontend/render";
import { createGear, destroyGear } from "../node/gear/lifecycle";
import { benchNode, clock, hostInfo, ratio, row, runBench, untilServed } from "./lib";

const PATH_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const REPO = path.resolve(__dirname, "../..");
const CARTRIDGES = ["nodejs", "python"] as const;
type Cart = (typeof CARTRIDGES)[number];
const FIRST_UID = 64100; // docs/node-operations.md lists the UID blocks
const SETPRIV = "/usr/bin/setpriv";
/** join the cgroups named by the first $1 arguments, then exec the rest (values only ever as argv) */
const JOIN =
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ >"$1" || exit 126; shift; n=$((n - 1)); done; umask 077; exec "$@"';

/** Run argv to completion (no shell); reject with its stderr on failure. */
function runArgv(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? PATH_ENV,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${argv.join(" ")}: exit ${code}: ${err.trim()}`)),
    );
  });
}

interface Gear {
  uuid: string;
  uid: number;
  app: string;
  home: string;
  host: string;
}

/** What the by-hand script writes, computed before its clock starts. */
interface HandPlan {
  srcDir: string;
  entries: string[];
  hasUsr: boolean;
  dir: string;
  version: string;
  dotEnv: Record<string, string>;
  cartEnv: Record<string, string>;
  hbs: string[];
  conf: string;
  procs: string[];
}

async function planByHand(ctx: NodeContext, cart: Cart, g: Gear): Promise<HandPlan> {
  const { cartridge: src, version } = await resolveCartridge(ctx.config, { name: cart });
  const manifest = src.manifest;
  const dir = cartridgeDir(manifest);
  const hostIds = allocateHostIds(ipNames(manifest), []);
  const ips = Object.fromEntries(Object.entries(hostIds).map(([n, id]) => [n, loopbackAddress(g.uid, id)]));
  const dotEnv = nodeCartridgeEnv({
    manifest,
    prefix: ctx.config.envPrefix,
    home: g.home,
    dir,
    ips,
    primary: true,
  });
  const top = await fs.readdir(src.dir);
  const entries = top.filter((e) => e !== "usr" && e !== "versions");
  const hbs = (await fs.readdir(path.join(src.dir, "env"))).filter((f) => f.endsWith(".hbs"));
  // the only templates of these two cartridges: env/<PREFIX><SHORT>_LOG_FILE.hbs = {{<PREFIX>LOG_DIR}}<name>.log
  const logDir = `${g.home}/app-root/logs/`;
  const cartEnv: Record<string, string> = {};
  for (const f of hbs) {
    const text = await fs.readFile(path.join(src.dir, "env", f), "utf8");
    cartEnv[f.slice(0, -4)] = text.replace(`{{${ctx.config.envPrefix}LOG_DIR}}`, logDir);
  }
  const { spec } = desiredFrontend(
    g.uuid,
    g.app,
    "bench",
    ctx.config.cloudDomain,
    [{ dir, endpoints: endpointBindings(manifest, ips) }],
    null,
  );
  return {
    srcDir: src.dir,
    entries,
    hasUsr: top.includes("usr"),
    dir,
    version,
    dotEnv,
    cartEnv,
    hbs,
    conf: renderGearConf(validateFrontendSpec(spec), ctx.config.frontend),
    procs: ctx.cgroup.procsFiles(g.uuid),
  };
}

/** The by-hand install: see the header. */
async function byHand(ctx: NodeContext, g: Gear, p: HandPlan): Promise<void> {
  const cart = path.join(g.home, p.dir);
  const uid = String(g.uid);
  await fs.mkdir(cart);
  await runArgv(["cp", "-R", "--", ...p.entries.map((e) => path.join(p.srcDir, e)), `${cart}/`]);
  if (p.hasUsr) await fs.symlink(path.join(p.srcDir, "usr"), path.join(cart, "usr"));
  for (const f of p.hbs) await fs.rm(path.join(cart, "env", f));
  for (const [k, v] of Object.entries(p.cartEnv)) await fs.writeFile(path.join(cart, "env", k), v);
  await runArgv(["chown", "-R", "-h", `${uid}:${uid}`, "--", cart]);
  for (const [k, v] of Object.entries(p.dotEnv)) {
    const f = path.join(g.home, ".env", k);
    await fs.writeFile(f, v, { mode: 0o640 });
    await fs.chown(f, 0, g.uid);
  }
  // the env the scripts get: ~/.env (system + the cartridge's node variables), then the cartridge's env/
  const env: NodeJS.ProcessEnv = { PATH: GEAR_PATH, USER: g.uuid, LOGNAME: g.uuid, LANG: "C.UTF-8" };
  for (const d of [path.join(g.home, ".env"), path.join(cart, "env")]) {
    for (const e of await fs.readdir(d, { withFileTypes: true }))
      if (e.isFile() && !(e.name in env)) env[e.name] = await fs.readFile(path.join(d, e.name), "utf8");
  }
  const asGear = (argv: string[]) =>
    runArgv(
      [
        "/bin/sh",
        "-c",
        JOIN,
        "join",
        String(p.procs.length),
        ...p.procs,
        SETPRIV,
        `--reuid=${uid}`,
        `--regid=${uid}`,
        "--clear-groups",
        "--",
        ...argv,
      ],
      { cwd: cart, env },
    );
  await asGear([path.join(cart, "bin/setup"), "--version", p.version]);
  await asGear(["/bin/cp", "-R", "--", `${cart}/template/.`, `${g.home}/app-root/runtime/repo/`]);
  await asGear([path.join(cart, "bin/control"), "start"]);
  await fs.writeFile(path.join(ctx.config.frontend.confDir, gearFileName(g.uuid)), p.conf);
  await runArgv(reloadArgv(ctx.config.frontend));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
  const runs = Number(values.runs);
  const work = await fs.mkdtemp("/tmp/gt-bench-cart-");
  await fs.chmod(work, 0o755); // nginx's workers read their files below it
  const nginx = await startPrivateNginx(path.join(work, "nginx"));
  const node = await benchNode("install", FIRST_UID, { frontend: nginx.frontend });
  const { config, ctx } = node;
  console.log("machine at the start:", hostInfo(ctx));
  const fe = nodeFrontend();
  let next = 0;
  const newGear = async (cart: Cart, side: string): Promise<Gear> => {
    const i = next++;
    const uuid = randomBytes(16).toString("hex");
    const app = `${side}${cart.slice(0, 2)}${i}`;
    const uid = FIRST_UID + (i % 100); // each gear is destroyed before the next one is made
    await createGear(ctx, { uuid, uid, app, namespace: "bench", profile: "small" }, { inspect: false });
    return {
      uuid,
      uid,
      app,
      home: path.join(config.gearBaseDir, uuid),
      host: `${app}-bench.${config.cloudDomain}`,
    };
  };
  const served = (got: string) => got.startsWith("200 ");
  try {
    for (const c of CARTRIDGES) await addToRepository(config, path.join(REPO, "cartridges", c));
    await fs.mkdir(config.frontend.confDir, { recursive: true });
    await fs.writeFile(path.join(config.frontend.confDir, BASE_FILE), renderBaseConf(config.frontend));

    const hand: Record<Cart, number[]> = { nodejs: [], python: [] };
    const gt: Record<Cart, number[]> = { nodejs: [], python: [] };
    const gtCall: Record<Cart, number[]> = { nodejs: [], python: [] };
    const one = async (c: Cart, measure: boolean) => {
      // by hand
      const h = await newGear(c, "h");
      const plan = await planByHand(ctx, c, h);
      const th = await clock(async () => {
        await byHand(ctx, h, plan);
        await untilServed(nginx.port, h.host, served);
      });
      await destroyGear(ctx, h.uuid);
      // Geartrain
      const g = await newGear(c, "g");
      let call = 0;
      const tg = await clock(async () => {
        call = await clock(() => installCartridge(ctx, g.uuid, { name: c }, { frontend: fe }));
        await untilServed(nginx.port, g.host, served);
      });
      await destroyGear(ctx, g.uuid);
      if (measure) {
        hand[c].push(th);
        gt[c].push(tg);
        gtCall[c].push(call);
      }
    };
    // warm-up (first exec of node/python/nginx, module loading), then the measured runs
    for (const c of CARTRIDGES) await one(c, false);
    for (let i = 0; i < runs; i++) for (const c of CARTRIDGES) await one(c, true);

    const lat = CARTRIDGES.flatMap((c) => [
      row(`${c} by hand`, hand[c]),
      row(`${c} Geartrain`, gt[c]),
      row(`${c} Geartrain: installCartridge returned`, gtCall[c]),
    ]);
    const ratios = Object.fromEntries(
      CARTRIDGES.map((c) => [c, { p50: ratio(gt[c], hand[c], 50), p95: ratio(gt[c], hand[c], 95) }]),
    );
    console.log(`\ninstall to first 200 through nginx, ${runs} runs each (ms):`);
    console.table(lat);
    console.log("ratios Geartrain/by hand:", ratios);
    const host = hostInfo(ctx);
    console.log("machine at the end:", host);
    console.log(
      JSON.stringify({
        host,
        runs,
        latencyMs: lat,
        ratios,
        raw: { hand, geartrain: gt, installCall: gtCall },
      }),
    );
  } finally {
    await node.cleanup();
    await nginx.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

runBench(main);
