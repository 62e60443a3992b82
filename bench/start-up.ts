// Benchmark: start-up of `geartrain <command>` (a whole process, spawn to exit) against `node -e 0` measured
// in the same run, the same way (same user, same environment).
//
//   npm run build && node dist/bench/start-up.js [--runs 40]      # as root
//
// Commands:
//   --help, node --help            as root
//   node gear-shell                as a gear, with an SSH_ORIGINAL_COMMAND it refuses: everything the SSH
//                                  forced command does on a push before it runs git (node config, who am I,
//                                  joining the gear's cgroup, the command check)
//   node gear-hook pre-receive     as a gear, with no ref updates on stdin: what each repository hook does
//   node gear-hook post-receive    before it deploys or prunes (node config, who am I, deploy settings)
//
// Each command alternates with its `node -e 0` run by run. Output: a table, the ratios and one JSON line.

import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as path from "path";
import { parseArgs } from "util";
import { createGear } from "../node/gear/lifecycle";
import { benchNode, hostInfo, ratio, row, runBench } from "./lib";

const REPO = path.resolve(__dirname, "../..");
const GEARTRAIN = path.join(REPO, "bin/geartrain");
const FIRST_UID = 64300; // docs/node-operations.md lists the UID blocks

interface Command {
  readonly name: string;
  readonly argv: readonly string[];
  /** run as this uid/gid (a gear), else as root */
  readonly uid?: number;
  readonly env: NodeJS.ProcessEnv;
  readonly input?: string;
  /** the exit code and stderr the command must end with, so the bench times the path it names */
  readonly expect: { code: number; stderr: RegExp };
}

function runOnce(argv: readonly string[], c: Command): { ms: number; code: number | null; stderr: string } {
  const s = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, {
    env: c.env,
    uid: c.uid,
    gid: c.uid,
    cwd: "/",
    input: c.input ?? "",
    encoding: "utf8",
    timeout: 30_000,
  });
  const ms = Number(process.hrtime.bigint() - s) / 1e6;
  return { ms, code: r.status, stderr: r.stderr };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "40" } } });
  const runs = Number(values.runs);
  const node = await benchNode("startup", FIRST_UID);
  console.log("machine at the start:", hostInfo(node.ctx));
  try {
    const uuid = randomBytes(16).toString("hex");
    const uid = node.uid(0);
    await createGear(node.ctx, { uuid, uid, app: "start", namespace: "bench", profile: "small" });
    const rootEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };
    const gearEnv = {
      PATH: "/usr/bin:/bin",
      LANG: "C.UTF-8",
      HOME: path.join(node.config.gearBaseDir, uuid),
      USER: uuid,
      GEARTRAIN_NODE_CONFIG: node.configPath,
    };
    const commands: Command[] = [
      { name: "--help", argv: ["--help"], env: rootEnv, expect: { code: 0, stderr: /^$/ } },
      { name: "node --help", argv: ["node", "--help"], env: rootEnv, expect: { code: 0, stderr: /^$/ } },
      {
        name: "node gear-shell (refused before git)",
        argv: ["node", "gear-shell"],
        uid,
        env: { ...gearEnv, SSH_ORIGINAL_COMMAND: "ls" },
        expect: { code: 1, stderr: /^geartrain: .*ls/ },
      },
      {
        name: "node gear-hook pre-receive (no updates)",
        argv: ["node", "gear-hook", "pre-receive"],
        uid,
        env: gearEnv,
        expect: { code: 0, stderr: /^$/ },
      },
      {
        name: "node gear-hook post-receive (no updates)",
        argv: ["node", "gear-hook", "post-receive"],
        uid,
        env: gearEnv,
        expect: { code: 0, stderr: /^$/ },
      },
    ];
    const times = commands.map(() => ({ bare: [] as number[], cmd: [] as number[] }));
    // run 0 is the warm-up (page cache, first exec)
    for (let n = 0; n <= runs; n++) {
      commands.forEach((c, i) => {
        const bare = runOnce(["-e", "0"], c);
        const cmd = runOnce([GEARTRAIN, ...c.argv], c);
        if (bare.code !== 0)
          throw new Error(`node -e 0 as ${c.uid ?? "root"}: exit ${bare.code}: ${bare.stderr}`);
        if (cmd.code !== c.expect.code || !c.expect.stderr.test(cmd.stderr))
          throw new Error(
            `geartrain ${c.argv.join(" ")}: exit ${cmd.code}, stderr ${JSON.stringify(cmd.stderr)}`,
          );
        if (n === 0) return;
        times[i].bare.push(bare.ms);
        times[i].cmd.push(cmd.ms);
      });
    }
    const lat = commands.flatMap((c, i) => [
      row(`node -e 0 (as ${c.uid === undefined ? "root" : "the gear"})`, times[i].bare, 1),
      row(`geartrain ${c.name}`, times[i].cmd, 1),
    ]);
    const ratios = Object.fromEntries(
      commands.map((c, i) => [
        c.name,
        { p50: ratio(times[i].cmd, times[i].bare, 50), p95: ratio(times[i].cmd, times[i].bare, 95) },
      ]),
    );
    const host = hostInfo(node.ctx);
    console.log(`\nstart-up, ${runs} runs each (ms):`);
    console.table(lat);
    console.log("ratios geartrain/node -e 0:", ratios);
    console.log("machine at the end:", host);
    console.log(JSON.stringify({ host, runs, latencyMs: lat, ratios }));
  } finally {
    await node.cleanup();
  }
}

runBench(main);
