// The gear side of git push deploys: code that runs AS the gear user (the SSH forced command, the git
// hooks, `gear-hook deploy` started by root through runInGear). It never has more rights than the gear:
// it learns who it is from its own uid (never from arguments or the environment), reads only what the gear
// may read (~/.env, cartridge records), and runs every step as itself, inside the gear's cgroup.

import { existsSync, promises as fs } from "fs";
import * as path from "path";
import { readPasswd } from "../host/accounts";
import { readEnvDirSafe } from "../host/gear-fs";
import { loadConfig, CONFIG_ENV } from "../config";
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

const rootEnvDirs = new WeakMap<GearSelf, Map<string, Promise<Record<string, string>>>>();

/**
 * A root-owned variable directory of the gear (`.env`, `.env/user_vars`), read once per process: the gear
 * cannot change it, and one hook run (settings, cartridges, every step's env) works from one reading.
 */
export function gearRootEnv(self: GearSelf, rel: ".env" | ".env/user_vars"): Promise<Record<string, string>> {
  let dirs = rootEnvDirs.get(self);
  if (!dirs) rootEnvDirs.set(self, (dirs = new Map()));
  let env = dirs.get(rel);
  if (!env) dirs.set(rel, (env = readEnvDirSafe(path.join(self.home, rel), ENV_NAME_PATTERN)));
  return env;
}

/** Deploy settings from the gear env (~/.env, written by root with `geartrain node gear deploy-config`). */
export async function gearSettings(self: GearSelf): Promise<GearSettings> {
  const p = self.config.envPrefix;
  const env = await gearRootEnv(self, ".env");
  return {
    keep: parseKeep(env[`${p}KEEP_DEPLOYMENTS`], `${p}KEEP_DEPLOYMENTS`),
    branch: parseBranch(env[`${p}DEPLOYMENT_BRANCH`], `${p}DEPLOYMENT_BRANCH`),
  };
}
