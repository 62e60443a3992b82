// Gear environment: the system vars written to ~/.env (OpenShift's OPENSHIFT_* set under our prefix) and
// the environment a gear process gets. Pure.

import * as path from "path";
import type { GearSpec, NodeConfig } from "../types";

export const GEAR_UMASK = 0o077;
export const GEAR_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin";

export function gearHome(config: NodeConfig, uuid: string): string {
  return path.join(config.gearBaseDir, uuid);
}

/** The gear's own host name, <app>-<namespace>.<cloudDomain> (its APP_DNS; the frontend reserves it for it). */
export function appHostname(app: string, namespace: string, cloudDomain: string): string {
  return `${app}-${namespace}.${cloudDomain}`;
}

/** System vars written as files in ~/.env (name → value). Deterministic; sorted by name. */
export function systemEnv(spec: GearSpec, config: NodeConfig): Record<string, string> {
  const p = config.envPrefix;
  const home = gearHome(config, spec.uuid);
  const profile = config.profiles[spec.profile];
  const dns = appHostname(spec.app, spec.namespace, config.cloudDomain);
  const vars: Record<string, string> = {
    [`${p}APP_DNS`]: dns,
    [`${p}APP_NAME`]: spec.app,
    ...(spec.appUuid ? { [`${p}APP_UUID`]: spec.appUuid } : {}),
    [`${p}DATA_DIR`]: `${home}/app-root/data/`,
    [`${p}GEAR_DNS`]: dns,
    [`${p}GEAR_MEMORY_MB`]: String(Math.floor(profile.memoryBytes / 2 ** 20)),
    [`${p}GEAR_PROFILE`]: spec.profile,
    [`${p}GEAR_UUID`]: spec.uuid,
    [`${p}HOMEDIR`]: `${home}/`,
    [`${p}LOG_DIR`]: `${home}/app-root/logs/`,
    [`${p}NAMESPACE`]: spec.namespace,
    [`${p}REPO_DIR`]: `${home}/app-root/runtime/repo/`,
    [`${p}TMP_DIR`]: "/tmp/",
    HISTFILE: `${home}/app-root/data/.bash_history`,
    HOME: home,
    TMP: "/tmp/",
    TMPDIR: "/tmp/",
  };
  return Object.fromEntries(Object.entries(vars).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Environment of a process run in the gear: base, then ~/.env, then user vars, then per-call extras. */
export function processEnv(
  uuid: string,
  envDir: Readonly<Record<string, string>>,
  userVars: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    PATH: GEAR_PATH,
    USER: uuid,
    LOGNAME: uuid,
    SHELL: "/bin/sh",
    LANG: "C.UTF-8",
    ...envDir,
    ...userVars,
    ...extra,
  };
}
