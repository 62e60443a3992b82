// Shared setup for the real-host node tests: a temp node (config file, gear base dir, PAM limits dir, its own
// cgroup name prefix, UID sub-range and netfilter table) that is torn down completely afterwards. Missing
// prerequisites fail loudly.

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
import { readPasswd } from "../../node/host/accounts";
import { resolveConfig } from "../../node/config";
import { makeContext, NodeContext } from "../../node/context";
import { run } from "../../node/host/exec";
import { destroyGear, listGears } from "../../node/gear/lifecycle";
import { IPTABLES, iptablesChain, NFT } from "../../node/host/netfilter";
import type { NodeConfig } from "../../node/types";
import { REPO_ROOT } from "../helpers/repo-root";

export const REPO = REPO_ROOT;
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
 * The network isolation table of a test node: nftables `inet gt_test_<name>`, iptables chain
 * `GT_TEST_<NAME>`. Never the default `geartrain`, so a test run neither leaves nor touches the host's table.
 */
export function testNetTable(name: string): string {
  const table = `gt_test_${name.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
  if (!/^[a-z][a-z0-9_]{0,23}$/.test(table))
    throw new Error(`test node name ${name} gives an invalid netfilter table name ${table} (max 24 chars)`);
  return table;
}

/** Remove a test node's nftables table and its iptables chain (with the jump from OUTPUT); gone = success. */
export async function removeTestNetfilter(table: string): Promise<void> {
  if (existsSync(NFT) && (await run([NFT, "list", "table", "inet", table])).code === 0) {
    const r = await run([NFT, "delete", "table", "inet", table]);
    if (r.code !== 0) throw new Error(`nft delete table inet ${table}: ${r.stderr.trim()}`);
  }
  const chain = iptablesChain(table);
  if (existsSync(IPTABLES) && (await run([IPTABLES, "-w", "-S", chain])).code === 0) {
    while ((await run([IPTABLES, "-w", "-D", "OUTPUT", "-j", chain])).code === 0);
    for (const op of ["-F", "-X"]) {
      const r = await run([IPTABLES, "-w", op, chain]);
      if (r.code !== 0) throw new Error(`iptables ${op} ${chain}: ${r.stderr.trim()}`);
    }
  }
}

/** A test node's netfilter objects still on the host (`nft list tables`, `iptables -S <CHAIN>`); [] = none. */
export async function netfilterLeftovers(table: string): Promise<string[]> {
  const left: string[] = [];
  if (existsSync(NFT)) {
    const r = await run([NFT, "list", "tables"]);
    if (r.code !== 0) throw new Error(`nft list tables: ${r.stderr.trim()}`);
    left.push(...r.stdout.split("\n").filter((l) => l.trim() === `table inet ${table}`));
  }
  const chain = iptablesChain(table);
  if (existsSync(IPTABLES) && (await run([IPTABLES, "-w", "-S", chain])).code === 0)
    left.push(`iptables chain ${chain}`);
  return left;
}

/**
 * name: unique per test file (gear cgroups gt-test-<name>-<uuid>, netfilter table gt_test_<name>); firstUid: start
 * of a 100-UID block of its own, listed in docs/node-operations.md (Tests); all are above UID_MAX 60000 of
 * login.defs, so never a real user's.
 * `extra.network` is merged over the test node's own table, so a test may change the backend but keeps a
 * table of its own unless it names one.
 */
export async function makeTestNode(
  name: string,
  firstUid: number,
  extra: Record<string, unknown> = {},
  /** how many UIDs from firstUid (the file's block) */
  blockSize = 100,
): Promise<TestNode> {
  const lastUid = firstUid + blockSize - 1;
  requirePrereqs();
  const dir = mkdtempSync(`/tmp/gt-test-${name}-`);
  chmodSync(dir, 0o755); // gear users must be able to reach their homes
  mkdirSync(path.join(dir, "limits.d"));
  const doc = {
    gearBaseDir: path.join(dir, "gears"),
    limitsDir: path.join(dir, "limits.d"),
    gecos: GECOS,
    district: { firstUid, maxUid: lastUid },
    cgroup: { rootName: `gt-test-${name}` },
    ...extra,
    network: { table: testNetTable(name), ...(extra.network as Record<string, unknown> | undefined) },
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
      try {
        for (const g of await listGears(ctx)) await destroyGear(ctx, g.uuid);
        // belt and braces: anything a failed test left behind in this range
        for (const u of await readPasswd()) {
          if (u.gecos === GECOS && u.uid >= firstUid && u.uid <= lastUid) await destroyGear(ctx, u.name);
        }
      } finally {
        // the isolation table/chain outlives its last gear (only its set elements go): remove it
        await removeTestNetfilter(config.network.table);
      }
      const left = await netfilterLeftovers(config.network.table);
      if (left.length) throw new Error(`test node ${name} left netfilter objects: ${left.join(", ")}`);
      // gear groups a failed test left (either layout), then an old-layout root a migration test made
      for (const uuid of await ctx.cgroup.listGears())
        for (const d of ctx.cgroup.gearDirs(uuid)) if (existsSync(d)) rmdirCgroup(d);
      for (const d of ctx.cgroup.legacyRootDirs()) {
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

/** Kill what is left in cgroup `d` and rmdir it (retrying while the killed tasks exit). */
export function rmdirCgroup(d: string): void {
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
  /** the signal that ended it, if one did */
  readonly signal: NodeJS.Signals | null;
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
  return startCli(node, args, input, extraEnv).result;
}

/** A CLI run in progress; `pid` leads a process group of its own (kill it with `process.kill(-pid)`). */
export interface CliRun {
  readonly pid: number;
  readonly result: Promise<CliResult>;
}

/** Start the built CLI in its own process group, so a test can SIGKILL it with all it runs. */
export function startCli(
  node: TestNode,
  args: string[],
  input?: string,
  extraEnv: NodeJS.ProcessEnv = {},
): CliRun {
  const main = path.join(REPO, "dist/services/cli/main.js");
  if (!existsSync(main)) throw new Error("dist/ is missing. Fix: npm run build");
  const built = statSync(path.join(REPO, "dist/node/cli/main.js")).mtimeMs;
  for (const f of readdirSync(path.join(REPO, "node"), { recursive: true }) as string[]) {
    if (f.endsWith(".ts") && statSync(path.join(REPO, "node", f)).mtimeMs > built) {
      throw new Error(`dist/ is older than node/${f}. Fix: npm run build`);
    }
  }
  const child = spawn(process.execPath, [path.join(REPO, "bin/geartrain"), "node", ...args], {
    env: { ...node.env, ...extraEnv },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true, // its own process group (setsid); it is still waited for
  });
  const result = new Promise<CliResult>((resolve, reject) => {
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
      resolve({ code: code ?? (signal ? 128 + 9 : -1), signal, stdout, stderr, json });
    });
    child.stdin.end(input ?? "");
  });
  if (child.pid === undefined) {
    result.catch(() => undefined); // the spawn error is thrown here instead
    throw new Error(`could not start ${process.execPath} bin/geartrain`);
  }
  return { pid: child.pid, result };
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
  if (existsSync(path.join("/var/spool/cron/crontabs", uuid))) t.push("crontab");
  if (existsSync("/etc/cron.deny") && readFileSync("/etc/cron.deny", "utf8").split("\n").includes(uuid))
    t.push("cron.deny line");
  return t;
}
