// Benchmark: git push to new version served (nodejs), against a by-hand floor in the same run.
//
//   npm run build && node dist/bench/git-push.js [--runs 10]      # as root; needs openssh-server, git
//
// Two gears with the nodejs cartridge installed (not timed), a private sshd on 127.0.0.1 and a private
// nginx. Each run commits a new server.js ("version <n>") in a client clone and times from the start of
// `git push` (a real git client over real SSH) until nginx first answers with the new text for the gear's
// host name (polled every 10 ms).
//
//   Geartrain: the gear's own repository (~/git/<app>.git) with its authorized_keys forced command
//              (geartrain node gear-shell): the pre-receive lifecycle builds the commit in a new
//              deployment dir as the gear in its cgroup, switches app-root/runtime/repo, restarts, prunes.
//   by hand:   a plain bare repository of the gear (~/app-root/data/hand.git), a plain authorized_keys line
//              (no forced command), and a post-receive hook that loads ~/.env and the cartridge's env/,
//              checks the pushed master out into app-root/runtime/repo and runs bin/control restart.
//
// By hand and Geartrain alternate push by push. Output: a table, the ratios and one JSON line.

import { execFile } from "child_process";
import { randomBytes } from "crypto";
import { promises as fs } from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseArgs, promisify } from "util";
import { nodeFrontend } from "../node/cartridge/frontend";
import { installCartridge } from "../node/cartridge/operations";
import { addToRepository } from "../node/cartridge/repository";
import { resolveConfig } from "../node/config";
import { makeContext } from "../node/context";
import { initAppRepository } from "../node/deploy/repo";
import { addSshKey } from "../node/deploy/sshkeys";
import { startPrivateNginx } from "../test/helpers/private-nginx";
import { createGear, destroyGear, listGears } from "../node/gear/lifecycle";
import { runInGear } from "../node/gear/run-in-gear";
import { keygen, startTestSshd } from "../test/helpers/sshd";

const exec = promisify(execFile);
const PATH_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const REPO = path.resolve(__dirname, "../..");
const FIRST_UID = 64200; // above every test range and the other benchmarks

/** The by-hand deploy: a constant hook script (no value is pasted into it). */
const HAND_HOOK = `#!/bin/sh
# by-hand deploy: the gear's variables, check out master into the app dir, restart the app
set -e
for f in "$HOME"/.env/* "$HOME"/nodejs/env/*; do
  if [ -f "$f" ]; then export "\${f##*/}=$(cat "$f")"; fi
done
while read -r _old _new _ref; do :; done
git --work-tree="$GEARTRAIN_REPO_DIR" checkout -q -f master
"\${GEARTRAIN_NODEJS_DIR}bin/control" restart
`;

const server = (text: string) => `const http = require("http");
http
  .createServer((req, res) => res.end(${JSON.stringify(text)} + "\\n"))
  .listen(Number(process.env.GEARTRAIN_NODEJS_PORT), process.env.GEARTRAIN_NODEJS_IP);
`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function getBody(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: "/", headers: { host }, agent: false, timeout: 5000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(`${res.statusCode} ${body}`));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(`error ${e.message}`));
  });
}

async function untilServed(port: number, host: string, want: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await getBody(port, host);
    if (got === `200 ${want}\n`) return;
    if (Date.now() > end)
      throw new Error(`${host}: "${want}" not served within ${timeoutMs} ms (last ${got})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
  const runs = Number(values.runs);
  if (process.getuid?.() !== 0) throw new Error("run as root");
  const dir = await fs.mkdtemp("/tmp/gt-bench-push-");
  await fs.chmod(dir, 0o755); // gear users reach the node config (forced command) and their homes
  await fs.mkdir(path.join(dir, "limits.d"));
  const client = path.join(dir, "client");
  await fs.mkdir(client, { mode: 0o700 });
  const nginx = await startPrivateNginx(path.join(dir, "nginx"));
  const doc = {
    gearBaseDir: path.join(dir, "gears"),
    limitsDir: path.join(dir, "limits.d"),
    gecos: "Geartrain bench gear",
    district: { firstUid: FIRST_UID, maxUid: FIRST_UID + 99 },
    cgroup: { rootName: "gt-bench-push" },
    network: { table: "gt_bench_push" }, // its own isolation table, removed at the end
    frontend: nginx.frontend,
  };
  const configPath = path.join(dir, "node.json");
  await fs.writeFile(configPath, JSON.stringify(doc, null, 2), { mode: 0o644 });
  const config = resolveConfig(doc);
  const ctx = await makeContext(config);
  const key = path.join(client, "id_ed25519");
  keygen(key, "ed25519", "bench@client");
  const pub = await fs.readFile(`${key}.pub`, "utf8");
  const sshd = await startTestSshd({
    config: [
      "AuthorizedKeysFile .ssh/authorized_keys",
      "StrictModes yes",
      "PermitUserEnvironment no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM yes", // gear accounts are locked (no password): with UsePAM no, sshd would refuse them
      "PermitRootLogin no",
      "AllowTcpForwarding no",
      "X11Forwarding no",
      "PrintMotd no",
    ],
  });
  const knownHosts = path.join(client, "known_hosts");
  await fs.writeFile(knownHosts, sshd.knownHostsLine + "\n");
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: client,
    LANG: "C.UTF-8",
    GIT_SSH_COMMAND: `ssh -i ${key} -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts}`,
    GIT_AUTHOR_NAME: "Bench",
    GIT_AUTHOR_EMAIL: "bench@example.com",
    GIT_COMMITTER_NAME: "Bench",
    GIT_COMMITTER_EMAIL: "bench@example.com",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  const git = async (cwd: string, args: string[]) => {
    try {
      return (await exec("git", args, { cwd, env, maxBuffer: 16 << 20 })).stdout.trim();
    } catch (e) {
      const x = e as Error & { stderr?: string };
      throw new Error(`git ${args.join(" ")} in ${cwd}: ${x.stderr?.trim() || x.message}`);
    }
  };
  const clock = async (f: () => Promise<unknown>) => {
    const s = process.hrtime.bigint();
    await f();
    return Number(process.hrtime.bigint() - s) / 1e6;
  };
  try {
    await addToRepository(config, path.join(REPO, "cartridges", "nodejs"));
    const made = async (i: number, app: string) => {
      const uuid = randomBytes(16).toString("hex");
      await createGear(ctx, { uuid, uid: FIRST_UID + i, app, namespace: "bench", profile: "small" });
      await installCartridge(ctx, uuid, { name: "nodejs" }, { frontend: nodeFrontend() });
      return {
        uuid,
        uid: FIRST_UID + i,
        app,
        home: path.join(config.gearBaseDir, uuid),
        host: `${app}-bench.${config.cloudDomain}`,
      };
    };
    // Geartrain: the gear's repository, the forced command
    const G = await made(0, "pushgt");
    await initAppRepository(ctx, G.uuid, path.join(G.home, "nodejs/template"));
    await addSshKey(ctx, G.uuid, { key: pub }, { configPath });
    const workG = path.join(client, "gt");
    await git(client, ["clone", "-q", `ssh://${G.uuid}@127.0.0.1:${sshd.port}/~/git/${G.app}.git/`, workG]);
    // by hand: a plain bare repository with a post-receive hook, a plain key line
    const H = await made(1, "pushhand");
    const bare = path.join(H.home, "app-root/data/hand.git");
    const r = await runInGear(ctx, H.uuid, ["/usr/bin/git", "init", "-q", "--bare", "-b", "master", bare]);
    if (r.code !== 0) throw new Error(`git init --bare: ${r.stderr}`);
    const hook = path.join(bare, "hooks/post-receive");
    await fs.writeFile(hook, HAND_HOOK, { mode: 0o700 });
    await fs.chown(hook, H.uid, H.uid);
    const keys = path.join(H.home, ".ssh/authorized_keys");
    await fs.writeFile(keys, pub, { mode: 0o440 });
    await fs.chown(keys, 0, H.uid);
    const workH = path.join(client, "hand");
    await fs.cp(path.join(H.home, "nodejs/template"), workH, { recursive: true });
    await git(workH, ["init", "-q", "-b", "master"]);
    await git(workH, ["remote", "add", "origin", `ssh://${H.uuid}@127.0.0.1:${sshd.port}${bare}`]);

    const pushGt: number[] = [];
    const pushHand: number[] = [];
    const servedGt: number[] = [];
    const servedHand: number[] = [];
    const one = async (n: number, work: string, host: string, served: number[], pushed: number[]) => {
      await fs.writeFile(path.join(work, "server.js"), server(`version ${n}`));
      await git(work, ["add", "-A"]);
      await git(work, ["commit", "-q", "-m", `version ${n}`]);
      let p = 0;
      const t = await clock(async () => {
        p = await clock(() => git(work, ["push", "-q", "origin", "master"]));
        await untilServed(nginx.port, host, `version ${n}`);
      });
      if (n > 0) {
        served.push(t);
        pushed.push(p);
      }
    };
    // run 0 is the warm-up (first deployment of each, first exec of ssh/git)
    for (let n = 0; n <= runs; n++) {
      await one(n, workH, H.host, servedHand, pushHand);
      await one(n, workG, G.host, servedGt, pushGt);
    }

    const row = (name: string, xs: number[]) => ({
      name,
      p50: +pct(xs, 50).toFixed(0),
      p95: +pct(xs, 95).toFixed(0),
      min: +Math.min(...xs).toFixed(0),
      max: +Math.max(...xs).toFixed(0),
    });
    const lat = [
      row("by hand: push to served", servedHand),
      row("by hand: git push returned", pushHand),
      row("Geartrain: push to served", servedGt),
      row("Geartrain: git push returned", pushGt),
    ];
    const ratios = {
      p50: +(pct(servedGt, 50) / pct(servedHand, 50)).toFixed(2),
      p95: +(pct(servedGt, 95) / pct(servedHand, 95)).toFixed(2),
    };
    console.log(`\ngit push to new version served (nodejs), ${runs} pushes each (ms):`);
    console.table(lat);
    console.log("ratios Geartrain/by hand (push to served):", ratios);
    console.log(
      JSON.stringify({
        host: { cpus: os.cpus().length, load1: os.loadavg()[0], cgroup: ctx.cgroup.version },
        runs,
        latencyMs: lat,
        ratios,
        raw: { servedHand, pushHand, servedGt, pushGt },
      }),
    );
  } finally {
    await sshd.stop();
    for (const g of await listGears(ctx)) await destroyGear(ctx, g.uuid).catch(() => undefined);
    for (const d of ctx.cgroup.rootDirs()) await fs.rmdir(d).catch(() => undefined);
    await exec("nft", ["delete", "table", "inet", config.network.table], { env: PATH_ENV }).catch(
      () => undefined,
    );
    await nginx.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
