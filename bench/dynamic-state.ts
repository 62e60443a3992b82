// Benchmark: `pulumi up` of N dynamic resources with the file backend, and what each leaves in the state.
// The engine rewrites the whole state file after every step, so the time grows with N times the state
// size; a dynamic resource's state carries its serialized provider (`__provider`) in its inputs and
// outputs. Shapes (all create the same directories under a temporary root):
//
//   local-directory    Geartrain's LocalDirectory as shipped (provider serialized by value)
//   by-module          a provider whose methods only require dist/providers/local-directory.js by path
//                      and call its localDirectoryProvider: the code is referenced, not carried
//   no-checkpoints     local-directory with PULUMI_SKIP_CHECKPOINTS=true (the state written once, at the end)
//
//   npm run build && bash scripts/toolchain.sh
//   flock /tmp/geartrain-heavy.lock node dist/bench/dynamic-state.js [--counts 100,300] [--shapes ...]
//
// As root (LocalDirectory chowns). Output: one line per run and one JSON line.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { loadAvg, runBench } from "./lib";

const REPO = path.resolve(__dirname, "../..");
const SHAPES = ["local-directory", "by-module", "no-checkpoints"] as const;
type Shape = (typeof SHAPES)[number];

const PULUMI_YAML = `name: geartrain-bench-dynamic-state
runtime:
  name: nodejs
  options:
    typescript: false
main: index.js
`;

/** The program; GT_* variables choose the shape, the count and the root of the directories. */
const PROGRAM = `const pulumi = require("@pulumi/pulumi");
const MODULE = ${JSON.stringify(path.join(REPO, "dist/providers/local-directory.js"))};
const { LocalDirectory } = require(MODULE);
const byModule = {
  check: (olds, news) => require(MODULE).localDirectoryProvider.check(olds, news),
  diff: (id, olds, news) => require(MODULE).localDirectoryProvider.diff(id, olds, news),
  create: (inputs) => require(MODULE).localDirectoryProvider.create(inputs),
  read: (id, props) => require(MODULE).localDirectoryProvider.read(id, props),
  update: (id, olds, news) => require(MODULE).localDirectoryProvider.update(id, olds, news),
  delete: (id, props) => require(MODULE).localDirectoryProvider.delete(id, props),
};
for (let i = 0; i < Number(process.env.GT_COUNT); i++) {
  const args = { path: process.env.GT_ROOT + "/d" + i, mode: "0750", uid: 0, gid: 0 };
  if (process.env.GT_SHAPE === "by-module") new pulumi.dynamic.Resource(byModule, "d" + i, args);
  else new LocalDirectory("d" + i, args);
}
`;

interface Result {
  readonly shape: Shape;
  readonly count: number;
  readonly upSeconds: number;
  readonly stateBytes: number;
  /** The serialized provider of one resource (`inputs.__provider`). */
  readonly providerBytes: number;
  /** One resource's entry in the state file, as JSON. */
  readonly resourceBytes: number;
  readonly load: string;
}

function pulumi(project: string, env: NodeJS.ProcessEnv, args: string[]): void {
  const r = spawnSync("bash", ["-c", 'source "$GT_ENV_SH" && exec pulumi "$@"', "pulumi", ...args], {
    cwd: project,
    env: { ...env, GT_ENV_SH: path.join(REPO, "scripts/env.sh") },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
}

function measure(project: string, shape: Shape, count: number): Result {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-bench-dynstate-"));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${scratch}/state`,
      PULUMI_CONFIG_PASSPHRASE: "geartrain-bench",
      PULUMI_CONFIG_PASSPHRASE_FILE: "",
      GT_SHAPE: shape,
      GT_COUNT: String(count),
      GT_ROOT: path.join(scratch, "dirs"),
    };
    if (shape === "no-checkpoints") env.PULUMI_SKIP_CHECKPOINTS = "true";
    fs.mkdirSync(path.join(scratch, "state"));
    const stack = `bench-${process.pid}`;
    pulumi(project, env, ["stack", "init", stack, "--non-interactive"]);
    const start = process.hrtime.bigint();
    pulumi(project, env, ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack]);
    const upSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stateFile = path.join(
      scratch,
      "state/.pulumi/stacks/geartrain-bench-dynamic-state",
      `${stack}.json`,
    );
    const state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    const resource = state.checkpoint.latest.resources.find((r: { type: string }) =>
      r.type.startsWith("pulumi-nodejs:dynamic"),
    );
    return {
      shape,
      count,
      upSeconds: +upSeconds.toFixed(1),
      stateBytes: fs.statSync(stateFile).size,
      providerBytes: resource.inputs.__provider.length,
      resourceBytes: JSON.stringify(resource).length,
      load: loadAvg(),
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

runBench(async () => {
  const { values } = parseArgs({
    options: {
      counts: { type: "string", default: "100,300" },
      shapes: { type: "string", default: SHAPES.join(",") },
    },
  });
  const counts = values.counts.split(",").map(Number);
  const shapes = values.shapes.split(",") as Shape[];
  for (const s of shapes)
    if (!SHAPES.includes(s)) throw new Error(`unknown shape ${s}; one of ${SHAPES.join(", ")}`);
  if (!fs.existsSync(path.join(REPO, ".geartrain/bin/pulumi"))) {
    throw new Error("the Pulumi toolchain is not set up: run `npm run setup` first");
  }
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-bench-dynproj-"));
  try {
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), PULUMI_YAML);
    fs.writeFileSync(path.join(project, "package.json"), '{ "private": true, "main": "index.js" }\n');
    fs.writeFileSync(path.join(project, "index.js"), PROGRAM);
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(project, "node_modules"));
    console.log(`cpus ${os.cpus().length}, load at start ${loadAvg()}`);
    const results: Result[] = [];
    for (const count of counts) {
      for (const shape of shapes) {
        const r = measure(project, shape, count);
        results.push(r);
        console.log(
          `${shape.padEnd(16)} n=${String(count).padStart(4)}  up ${String(r.upSeconds).padStart(5)} s  ` +
            `state ${(r.stateBytes / 1024).toFixed(0).padStart(5)} KiB  __provider ${r.providerBytes} B  ` +
            `resource ${r.resourceBytes} B  load ${r.load}`,
        );
      }
    }
    console.log(JSON.stringify({ bench: "dynamic-state", cpus: os.cpus().length, results }));
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});
