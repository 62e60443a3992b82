// The gear side of git push deploys: code that runs AS the gear user (the SSH forced command, the git
// hooks, `gear-hook deploy` started by root through runInGear). It never has more rights than the gear:
// it learns who it is from its own uid (never from arguments or the environment), reads only what the gear
// may read (~/.env, cartridge records), and runs every step as itself, inside the gear's cgroup.

import { spawn } from "child_process";
import { existsSync, promises as fs } from "fs";
import * as path from "path";
import { readPasswd } from "../host/accounts";
import { listRecords, type CartridgeRecord } from "../cartridge/records";
import { readEnvDirSafe } from "../host/fs";
import { hookEnv, type CartridgeEnvSource } from "../cartridge/model";
import { loadConfig, CONFIG_ENV } from "../config";
import { processEnv } from "../gear/env";
import type { NodeConfig } from "../types";
import { ENV_NAME_PATTERN } from "../../common/env-names";
import { NAME_PATTERN, UUID_PATTERN } from "../validate";
import { DEPLOYMENTS_DIR, parseBranch, parseKeep, type Setting } from "./model";

/** Environment variables the forced command hands to git and its hooks (constant names). */
export const HOOK_ENV = {
  node: "GEARTRAIN_GEAR_HOOK_NODE",
  script: "GEARTRAIN_GEAR_HOOK_SCRIPT",
  /** "1": the forced command holds the deploy lock for this push */
  locked: "GEARTRAIN_DEPLOY_LOCKED",
} as const;

export interface GearSelf {
  readonly config: NodeConfig;
  /** the node config file to hand on to child processes (null: the default path) */
  readonly configPath: string | null;
  readonly uuid: string;
  readonly uid: number;
  readonly home: string;
  readonly app: string;
  /** absolute path of the gear's bare repository */
  readonly repo: string;
  readonly deployments: string;
}

/** bin/geartrain of this installation (from the source tree or from dist/). */
export function geartrainLauncher(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const candidate = path.join(d, "bin", "geartrain");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find bin/geartrain above ${__dirname}`);
}

/** The node config for a gear-side process: --config, else GEARTRAIN_NODE_CONFIG, else the default file. */
export function gearSideConfig(configFlag: string | undefined): {
  config: NodeConfig;
  configPath: string | null;
} {
  const configPath = configFlag ?? (process.env[CONFIG_ENV] || null);
  try {
    return { config: loadConfig(configPath ? { [CONFIG_ENV]: configPath } : {}), configPath };
  } catch (e) {
    throw new Error(
      `${(e as Error).message} (gear users must be able to read the node config: chmod 0644 it)`,
    );
  }
}

/** Who am I? The gear whose account has this process's uid; refuses root and non-gear accounts. */
export async function gearSelf(config: NodeConfig, configPath: string | null): Promise<GearSelf> {
  const uid = process.getuid?.() ?? -1;
  if (uid === 0)
    throw new Error("this command runs as a gear user (via its SSH access or runInGear), not as root");
  const user = (await readPasswd()).find((u) => u.uid === uid);
  if (!user || user.gecos !== config.gecos || !UUID_PATTERN.test(user.name)) {
    throw new Error(`uid ${uid} is not a gear of this node`);
  }
  const home = path.join(config.gearBaseDir, user.name);
  if (user.home !== home) throw new Error(`gear ${user.name} has home ${user.home}, expected ${home}`);
  const app = (
    await fs.readFile(path.join(home, ".env", `${config.envPrefix}APP_NAME`), "utf8").catch(() => "")
  ).trim();
  if (!NAME_PATTERN.test(app)) throw new Error(`gear ${user.name} has no valid ${config.envPrefix}APP_NAME`);
  return {
    config,
    configPath,
    uuid: user.name,
    uid,
    home,
    app,
    repo: path.join(home, "git", `${app}.git`),
    deployments: path.join(home, DEPLOYMENTS_DIR),
  };
}

export interface GearSettings {
  readonly keep: Setting<number>;
  readonly branch: Setting<string>;
}

/** Deploy settings from the gear env (~/.env, written by root with `geartrain node gear deploy-config`). */
export async function gearSettings(self: GearSelf): Promise<GearSettings> {
  const p = self.config.envPrefix;
  const env = await readEnvDirSafe(path.join(self.home, ".env"), ENV_NAME_PATTERN);
  return {
    keep: parseKeep(env[`${p}KEEP_DEPLOYMENTS`], `${p}KEEP_DEPLOYMENTS`),
    branch: parseBranch(env[`${p}DEPLOYMENT_BRANCH`], `${p}DEPLOYMENT_BRANCH`),
  };
}

/** Installed cartridges and the primary (web) one: <P>PRIMARY_CARTRIDGE_DIR, else the first web_framework. */
export async function gearCartridges(
  self: GearSelf,
): Promise<{ records: CartridgeRecord[]; primary: CartridgeRecord | null }> {
  const records = (await listRecords(self.home)).filter((r) => r.phase === "installed");
  const env = await readEnvDirSafe(path.join(self.home, ".env"), ENV_NAME_PATTERN);
  const primaryDir = env[`${self.config.envPrefix}PRIMARY_CARTRIDGE_DIR`];
  const primary =
    records.find((r) => primaryDir === `${path.join(self.home, r.dir)}/`) ??
    records.find((r) => r.manifest.Categories.includes("web_framework")) ??
    null;
  return { records, primary };
}

/**
 * The environment of a lifecycle step: exactly what a cartridge hook gets from the node (base, ~/.env,
 * user vars, then the cartridges' env/ layered as controlCartridge does), plus `overrides`.
 */
export async function stepEnv(
  self: GearSelf,
  records: readonly CartridgeRecord[],
  cartridge: string | null,
  overrides: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const dotEnv = await readEnvDirSafe(path.join(self.home, ".env"), ENV_NAME_PATTERN);
  const userVars = await readEnvDirSafe(path.join(self.home, ".env/user_vars"), ENV_NAME_PATTERN);
  const cartridges: CartridgeEnvSource[] = [];
  for (const r of records) {
    cartridges.push({
      dir: r.dir,
      shortName: r.shortName,
      vars: await readEnvDirSafe(path.join(self.home, r.dir, "env"), ENV_NAME_PATTERN),
    });
  }
  const extra = hookEnv({ prefix: self.config.envPrefix, dotEnv, userVars, cartridges, self: cartridge });
  return processEnv(self.uuid, dotEnv, userVars, { ...extra, ...overrides });
}

export interface StepResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stderr when captured (git plumbing); "" for steps whose output goes to the pusher */
  readonly stdout: string;
  readonly stderr: string;
}

export const STEP_TIMEOUT_MS = 15 * 60_000;

/**
 * Run one step as ourselves (already the gear, in its cgroup, umask 077), argv only. Output goes to our
 * stderr (which git forwards to the pusher as "remote:" lines) unless `capture`. The step gets its own
 * process group, killed as a whole on timeout.
 */
export function runStep(
  argv: readonly string[],
  opts: {
    cwd: string;
    env: Readonly<Record<string, string>>;
    capture?: boolean;
    input?: string;
    timeoutMs?: number;
  },
): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [
        opts.input !== undefined ? "pipe" : "ignore",
        opts.capture ? "pipe" : 2,
        opts.capture ? "pipe" : 2,
      ],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    if (opts.input !== undefined) {
      child.stdin!.on("error", () => undefined);
      child.stdin!.end(opts.input);
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, opts.timeoutMs ?? STEP_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // captured: wait for the pipes; otherwise the exit (a daemon the step started may keep fds open)
    child.on(opts.capture ? "close" : "exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
