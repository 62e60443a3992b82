// Root entry points for deploys: `geartrain node gear deploy <uuid> [--ref R]` and `... deployments <uuid>`.
// Both run the gear side (`geartrain node gear-hook deploy|list`) as the gear through runInGear, so the
// checkout, the build and every file operation in the gear's directories happen with the gear's rights and
// in its cgroup, exactly as for a push. deploy holds the gear lock (no cartridge operation meanwhile).

import * as path from "path";
import { ValidationError } from "../../common/errors";
import { CONFIG_ENV } from "../config";
import type { NodeContext } from "../context";
import { spawnInGear } from "../gear/run-in-gear";
import { createdGear, withCreatedGear } from "../gear/ref";
import type { DeployResult, DeploymentInfo, ActiveDeployment } from "./lifecycle";
import { BRANCH_PATTERN, DeployFailedError, SHA_PATTERN } from "./model";
import { deployGearOf, ensureDeployLayout, type DeployGear } from "./repo";
import { geartrainLauncher } from "./self";

export interface DeployOptions {
  /** node config file for the gear side; default GEARTRAIN_NODE_CONFIG, else the default path */
  readonly configPath?: string | null;
  /** progress lines of the deploy (its stderr), as they come */
  readonly onProgress?: (chunk: string) => void;
}

async function gearHook(
  ctx: NodeContext,
  g: DeployGear,
  args: string[],
  opts: DeployOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const configPath = opts.configPath !== undefined ? opts.configPath : process.env[CONFIG_ENV] || null;
  const argv = [process.execPath, geartrainLauncher(), "node", "gear-hook", ...args];
  const child = await spawnInGear(ctx, g.uuid, argv, {
    env: configPath ? { [CONFIG_ENV]: path.resolve(configPath) } : {},
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      opts.onProgress?.(d);
    });
    child.on("error", reject);
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      resolve({ code, stdout, stderr });
    };
    child.on("close", (code) => finish(code));
    // a daemon an action hook started may keep our pipes open: stop reading shortly after the exit
    child.on("exit", (code) => {
      setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish(code);
      }, 500).unref();
    });
  });
}

function lastError(log: string): string {
  const errors = log
    .split("\n")
    .filter((l) => l.startsWith("geartrain: ERROR: "))
    .map((l) => l.slice("geartrain: ERROR: ".length));
  return errors.length ? errors.join("; ") : log.trim().split("\n").slice(-3).join(" ") || "deploy failed";
}

export interface GearDeployResult extends DeployResult {
  readonly uuid: string;
  readonly pruned: string[];
}

/** Build and activate `ref` (a commit id or branch; default the deployment branch) from the gear's repo. */
export async function deployGear(
  ctx: NodeContext,
  uuidIn: unknown,
  input: { ref?: unknown } = {},
  opts: DeployOptions = {},
): Promise<GearDeployResult> {
  const ref = input.ref;
  if (
    ref !== undefined &&
    (typeof ref !== "string" || !(SHA_PATTERN.test(ref) || (BRANCH_PATTERN.test(ref) && !ref.includes(".."))))
  ) {
    throw new ValidationError(
      "ref",
      `must be a full commit id or a branch name (got ${JSON.stringify(ref)})`,
    );
  }
  return withCreatedGear(ctx, uuidIn, async (gear) => {
    const g = deployGearOf(gear);
    await ensureDeployLayout(g);
    const r = await gearHook(ctx, g, ["deploy", ...(ref ? ["--ref", ref as string] : [])], opts);
    if (r.code !== 0)
      throw new DeployFailedError(`deploy of gear ${g.uuid} failed: ${lastError(r.stderr)}`, {
        log: r.stderr,
      });
    return JSON.parse(r.stdout) as GearDeployResult;
  });
}

export interface GearDeployments {
  readonly uuid: string;
  readonly keep: number;
  readonly branch: string;
  readonly active: ActiveDeployment | null;
  readonly deployments: DeploymentInfo[];
}

/** The gear's deployments and the active one (id and commit), read as the gear. */
export async function gearDeployments(
  ctx: NodeContext,
  uuidIn: unknown,
  opts: DeployOptions = {},
): Promise<GearDeployments> {
  const g = deployGearOf(await createdGear(ctx, uuidIn));
  await ensureDeployLayout(g);
  const r = await gearHook(ctx, g, ["list"], opts);
  if (r.code !== 0)
    throw new Error(`listing the deployments of gear ${g.uuid} failed: ${lastError(r.stderr)}`);
  return JSON.parse(r.stdout) as GearDeployments;
}
