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
import * as path from "path";
import { parseArgs, promisify } from "util";
import { nodeFrontend } from "../node/cartridge/frontend";
import { installCartridge } from "../node/cartridge/install";
import { addToRepository } from "../node/cartridge/repository";
import { initAppRepository } from "../node/deploy/repo";
import { addSshKey } from "../node/deploy/ssh-keys";
import { startPrivateNginx } from "../test/helpers/private-nginx";
import { createGear } from "../node/gear/lifecycle";
import { runInGear } from "../node/gear/run-in-gear";
import { keygen, startTestSshd, GEAR_GIT_SSHD_CONFIG } from "../test/helpers/sshd";
import { benchNode, clock, hostInfo, ratio, row, runBench, untilServed } from "./lib";

const exec = promisify(execFile);
const REPO = path.resolve(__dirname, "../..");
const FIRST_UID = 64200; // docs/node-operations.md lists the UID blocks

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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
  const runs = Number(values.runs);
  const work = await fs.mkdtemp("/tmp/gt-bench-push-");
  await fs.chmod(work, 0o755); // nginx's workers read their files below it
  const client = path.join(work, "client");
  await fs.mkdir(client, { mode: 0o700 });
  const nginx = await startPrivateNginx(path.join(work, "nginx"));
  // the node dir and its config are readable by the gear users (the forced command reads the config)
  const node = await benchNode("push", FIRST_UID, { frontend: nginx.frontend });
  const { config, configPath, ctx } = node;
  console.log("machine at the start:", hostInfo(ctx));
  const key = path.join(client, "id_ed25519");
  keygen(key, "ed25519", "bench@client");
  const pub = await fs.readFile(`${key}.pub`, "utf8");
  const sshd = await startTestSshd({ config: GEAR_GIT_SSHD_CONFIG });
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
        await untilServed(nginx.port, host, (got) => got === `200 version ${n}\n`);
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

    const lat = [
      row("by hand: push to served", servedHand),
      row("by hand: git push returned", pushHand),
      row("Geartrain: push to served", servedGt),
      row("Geartrain: git push returned", pushGt),
    ];
    const ratios = { p50: ratio(servedGt, servedHand, 50), p95: ratio(servedGt, servedHand, 95) };
    const host = hostInfo(ctx);
    console.log(`\ngit push to new version served (nodejs), ${runs} pushes each (ms):`);
    console.table(lat);
    console.log("ratios Geartrain/by hand (push to served):", ratios);
    console.log("machine at the end:", host);
    console.log(
      JSON.stringify({
        host,
        runs,
        latencyMs: lat,
        ratios,
        raw: { servedHand, pushHand, servedGt, pushGt },
      }),
    );
  } finally {
    await sshd.stop();
    await node.cleanup();
    await nginx.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

runBench(main);
