// Benchmark: the dev stack's `pulumi up` on this machine, as `npm run deploy:dev` runs it, against the
// engine's own floor measured in the same run (`pulumi preview` of a program with no resources):
//
//   cold up      a new stack, and the release bundle built from scratch (an empty release cache), as on a
//                fresh machine once the toolchain is built
//   warm up      the same stack again: nothing to change (every step diffs against the host)
//   preview      `pulumi preview --expect-no-changes` of the deployed stack
//   destroy      everything removed again
//
// The stack is the project's own program with platforms/dev.yaml on free ports, in its own data and config
// directories (a dev stack of this machine keeps running). As root:
//
//   npm run build && bash scripts/toolchain.sh
//   flock /tmp/geartrain-heavy.lock node dist/bench/deploy-dev.js [--floor-runs 3]
//
// Output: one line per step and one JSON line (seconds, and each step over the floor).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import * as YAML from "yaml";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../test/helpers/pulumi-cli";
import { freePort } from "../test/helpers/sshd";
import { loadAvg, pct, runBench } from "./lib";

const ROLES = ["broker", "msgserver", "datastore", "nameserver", "nodeHttp", "nodeHttps", "nodeSsh"] as const;

function seconds(f: () => void): number {
  const start = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** `pulumi preview` of a program that declares nothing: what every command costs before any resource. */
function engineFloor(runs: number): number[] {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-bench-floor-"));
  fs.writeFileSync(
    path.join(project, "Pulumi.yaml"),
    "name: geartrain-bench-floor\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n",
  );
  fs.writeFileSync(path.join(project, "index.js"), 'require("@pulumi/pulumi");\n');
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(project, "node_modules"));
  const sandbox = new PulumiSandbox("bench-floor", undefined, project);
  try {
    sandbox.init();
    return Array.from({ length: runs }, () => seconds(() => sandbox.ok(["preview"])));
  } finally {
    sandbox.cleanup();
    fs.rmSync(project, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "floor-runs": { type: "string", default: "3" } } });
  const floorRuns = Number(values["floor-runs"]);
  if (!Number.isInteger(floorRuns) || floorRuns < 1)
    throw new Error("--floor-runs must be a positive integer");
  requireToolchain();
  if (process.getuid?.() !== 0) throw new Error("the deploy benchmark deploys the dev stack: run it as root");

  const floor = pct(engineFloor(floorRuns), 50);
  process.stdout.write(`engine floor (preview, no resources): ${floor.toFixed(2)} s\n`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-bench-dev-"));
  fs.chmodSync(dataDir, 0o755); // the daemons' own users reach their directories
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-bench-cache-"));
  const ports: Record<string, number> = {};
  for (const role of ROLES) ports[role] = await freePort();
  const sandbox = new PulumiSandbox("bench-dev");
  const steps: Record<string, number> = {};
  try {
    const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "platforms/dev.yaml"), "utf8"));
    const platformFile = path.join(sandbox.dir, "dev.yaml");
    // its district on UIDs of its own (docs/node-operations.md: 60600-60649): the dev stack's guestbook is a gear
    const districts = dev.districts.map((d: object) => ({ ...d, uidRange: { min: 60600, max: 60649 } }));
    fs.writeFileSync(platformFile, YAML.stringify({ ...dev, ports, districts }));
    sandbox.setPlatform(platformFile);
    sandbox.init();
    sandbox.ok(["config", "set", "dataDir", dataDir]);
    sandbox.ok(["config", "set", "configDir", path.join(dataDir, "etc")]);
    // the node's unidler port and names of its own (a dev stack of this machine keeps the defaults)
    const node = {
      idlePort: await freePort(),
      gecos: "Geartrain bench deploy-dev gear",
      cgroupRootName: "gt-bench-dev",
      networkTable: "gt_bench_dev",
      limitsDir: path.join(dataDir, "limits.d"),
    };
    sandbox.ok(["config", "set", "node", JSON.stringify(node)]);
    // an empty release cache: the cold up builds the bundle as a fresh machine's first deploy does
    const env = { GEARTRAIN_CACHE: cache };
    const step = (name: string, args: string[]) => {
      steps[name] = seconds(() => sandbox.ok(args, { env }));
      process.stdout.write(
        `${name}: ${steps[name]!.toFixed(1)} s (${(steps[name]! / floor).toFixed(1)}× floor)\n`,
      );
    };
    step("coldUp", ["up", "--yes", "--skip-preview"]);
    step("warmUp", ["up", "--yes", "--skip-preview"]);
    step("preview", ["preview", "--expect-no-changes"]);
    step("destroy", ["destroy", "--yes", "--skip-preview"]);
  } finally {
    if (steps.destroy === undefined) sandbox.run(["destroy", "--yes", "--skip-preview"]);
    sandbox.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
  const overFloor = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, +(v / floor).toFixed(2)]));
  process.stdout.write(
    `${JSON.stringify({
      bench: "deploy-dev",
      cpus: os.cpus().length,
      load: loadAvg(),
      floorSeconds: +floor.toFixed(2),
      seconds: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, +v.toFixed(1)])),
      overFloor,
    })}\n`,
  );
}

runBench(main);
