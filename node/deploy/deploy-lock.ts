// The gear's deploy lock (~/app-deployments/.lock), taken by every deploy of a gear: the SSH forced command
// for the whole push, `gear-hook deploy` for a redeploy. Its own module because the forced command needs
// it and nothing else of the deploy lifecycle (it starts on every push).

import { promises as fs } from "fs";
import * as path from "path";
import { withFileLock } from "../host/lock";
import type { Log } from "./lifecycle";
import { DeployFailedError } from "./model";
import type { GearSelf } from "./self";

const LOCK_TIMEOUT_MS = 30 * 60_000;

function lockFile(self: GearSelf): string {
  return path.join(self.deployments, ".lock");
}

/** Check ~/app-deployments exists, is a directory of the gear (created by root, see repo.ts). */
export async function requireDeploymentsDir(self: GearSelf): Promise<void> {
  const st = await fs.lstat(self.deployments).catch(() => null);
  if (!st || !st.isDirectory() || st.uid !== self.uid) {
    throw new DeployFailedError(
      `~/app-deployments is missing; an operator must run: geartrain node gear deploy-config ${self.uuid}`,
    );
  }
}

/** Serialise deploys of this gear (pushes, `gear deploy`); the lock holder's death releases it. */
export async function withDeployLock<T>(self: GearSelf, log: Log, fn: () => Promise<T>): Promise<T> {
  await requireDeploymentsDir(self);
  const held = await fs.readFile(lockFile(self), "utf8").catch(() => null);
  if (held) log("waiting for another deploy of this gear to finish ...");
  return withFileLock(lockFile(self), fn, LOCK_TIMEOUT_MS);
}
