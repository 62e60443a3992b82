// Shared setup for the real-host node tests: a temp node (config file, gear base dir, PAM limits dir, its own
// cgroup root and UID sub-range) that is torn down completely afterwards. Missing prerequisites fail loudly.

import { execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import {
  existsSync,
  mkdtempSync,
  chmodSync,
  mkdirSync,
  writeFileSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from "fs";
import * as path from "path";
import { readPasswd } from "../../node/accounts";
import { resolveConfig } from "../../node/config";
import { makeContext, NodeContext } from "../../node/context";
import { destroyGear, listGears } from "../../node/gear";
import type { NodeConfig } from "../../node/types";

export const REPO = path.resolve(__dirname, "../..");
export const GECOS = "Geartrain test gear";

export function requirePrereqs(tools: string[] = []): void {
  if (process.getuid?.() !== 0) throw new Error("node tests must run as root (sudo npx jest test/node)");
  const missing = ["useradd", "groupadd", "userdel", "/usr/bin/perl", ...tools].filter(
    (t) =>
      !(t.startsWith("/")
        ? existsSync(t)
        : ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(path.join(d, t)))),
  );
  if (missing.length) {
    throw new Error(
      `missing tools: ${missing.join(", ")}. Fix: apt-get update && apt-get install -y passwd perl util-linux e2fsprogs mount procps`,
    );
  }
}

export interface TestNode {
  readonly dir: string;
  readonly configPath: string;
  readonly config: NodeConfig;
  readonly ctx: NodeContext;
  /** i-th UID of this node's sub-range */
  uid(i: number): number;
  /** env for CLI child processes */
  readonly env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export function newUuid(): string {
  return randomBytes(16).toString("hex");
}

/**
 * name: unique per test file (cgroup root gt-test-<name>); firstUid: start of a 100-UID sub-range in
 * 61000-61999 (above UID_MAX 60000 of login.defs, so never a real user's).
 */
export async function makeTestNode(
  name: string,
  firstUid: number,
  extra: Record<string, unknown> = {},
): Promise<TestNode> {
  requirePrereqs();
  const dir = mkdtempSync(`/tmp/gt-test-${name}-`);
  chmodSync(dir, 0o755); // gear users must be able to reach their homes
  mkdirSync(path.join(dir, "limits.d"));
  const doc = {
    gearBaseDir: path.join(dir, "gears"),
    limitsDir: path.join(dir, "limits.d"),
    gecos: GECOS,
    district: { firstUid, maxUid: firstUid + 99 },
    cgroup: { rootName: `gt-test-${name}` },
    ...extra,
  };
  const configPath = path.join(dir, "node.json");
  writeFileSync(configPath, JSON.stringify(doc, null, 2));
  const config = resolveConfig(doc);
  const ctx = await makeContext(config);
  const env = { ...process.env, GEARTRAIN_NODE_CONFIG: configPath };
  return {
    dir,
    configPath,
    config,
    ctx,
    env,
    uid: (i) => firstUid + i,
    async cleanup() {
      for (const g of await listGears(ctx)) await destroyGear(ctx, g.uuid);
      // belt and braces: anything a failed test left behind in this range
      for (const u of await readPasswd()) {
        if (u.gecos === GECOS && u.uid >= firstUid && u.uid <= firstUid + 99) await destroyGear(ctx, u.name);
      }
      for (const d of ctx.cgroup.rootDirs()) {
        if (!existsSync(d)) continue;
        for (const e of readdirSync(d, { withFileTypes: true }))
          if (e.isDirectory()) rmdirCgroup(path.join(d, e.name));
        rmdirCgroup(d);
      }
      const mounts = readFileSync("/proc/self/mountinfo", "utf8");
      if (mounts.includes(dir)) throw new Error(`mounts left under ${dir}`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rmdirCgroup(d: string): void {
  try {
    const procs = readFileSync(path.join(d, "cgroup.procs"), "utf8").trim().split("\n").filter(Boolean);
    for (const p of procs) {
      try {
        process.kill(Number(p), "SIGKILL");
      } catch {
        /* gone */
      }
    }
  } catch {
    /* not a cgroup */
  }
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync("rmdir", [d]);
      return;
    } catch {
      execFileSync("sleep", ["0.05"]);
    }
  }
  throw new Error(`cannot remove cgroup ${d}`);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly json: unknown;
}

/** Run the built CLI (node bin/geartrain). Requires `npm run build` (checked in globalSetup-free way). */
export function cli(
  node: TestNode,
  args: string[],
  input?: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const main = path.join(REPO, "dist/services/cli/main.js");
  if (!existsSync(main)) throw new Error("dist/ is missing. Fix: npm run build");
  const built = statSync(path.join(REPO, "dist/node/cli.js")).mtimeMs;
  for (const f of readdirSync(path.join(REPO, "node"), { recursive: true }) as string[]) {
    if (f.endsWith(".ts") && statSync(path.join(REPO, "node", f)).mtimeMs > built) {
      throw new Error(`dist/ is older than node/${f}. Fix: npm run build`);
    }
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, "bin/geartrain"), "node", ...args], {
      env: { ...node.env, ...extraEnv },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      let json: unknown = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code: code ?? (signal ? 128 + 9 : -1), stdout, stderr, json });
    });
    child.stdin.end(input ?? "");
  });
}

export function userExists(name: string): boolean {
  return readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .some((l) => l.startsWith(`${name}:`));
}

export function groupExists(name: string): boolean {
  return readFileSync("/etc/group", "utf8")
    .split("\n")
    .some((l) => l.startsWith(`${name}:`));
}

/** Everything a gear may leave on the host, for "destroy leaves nothing" assertions. */
export function traces(node: TestNode, uuid: string): string[] {
  const t: string[] = [];
  if (userExists(uuid)) t.push("user");
  if (groupExists(uuid)) t.push("group");
  if (existsSync(path.join(node.config.gearBaseDir, uuid))) t.push("home");
  for (const d of node.ctx.cgroup.gearDirs(uuid)) if (existsSync(d)) t.push(`cgroup ${d}`);
  if (existsSync(path.join(node.config.limitsDir, `84-${uuid}.conf`))) t.push("limits");
  if (existsSync(path.join(node.config.stateDir, "gears", `${uuid}.json`))) t.push("marker");
  if (existsSync(path.join(node.config.stateDir, "disk", `${uuid}.img`))) t.push("image");
  return t;
}
