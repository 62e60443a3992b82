// The steps of a deploy, run as the gear (see self.ts): which cartridges the gear has, the environment of
// each step (what a cartridge hook gets from the node), and running one step.

import { spawn } from "child_process";
import * as path from "path";
import { listRecords, type CartridgeRecord } from "../cartridge/records";
import { readEnvDirSafe } from "../host/gear-fs";
import { hookEnv, type CartridgeEnvSource } from "../cartridge/model";
import { processEnv } from "../gear/env";
import { ENV_NAME_PATTERN } from "../../common/env-names";
import { gearRootEnv, type GearSelf } from "./self";

/** Installed cartridges and the primary (web) one: <P>PRIMARY_CARTRIDGE_DIR, else the first web_framework. */
export async function gearCartridges(
  self: GearSelf,
): Promise<{ records: CartridgeRecord[]; primary: CartridgeRecord | null }> {
  const records = (await listRecords(self.home)).filter((r) => r.phase === "installed");
  const env = await gearRootEnv(self, ".env");
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
  const dotEnv = await gearRootEnv(self, ".env");
  const userVars = await gearRootEnv(self, ".env/user_vars");
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
