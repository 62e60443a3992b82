// PAM limits file (reference §2.3): /etc/security/limits.d/<order>-<uuid>.conf with the gear's nproc.
// Applies to PAM sessions (ssh logins); processes the node starts are bounded by pids.max instead.

import { promises as fs } from "fs";
import * as path from "path";
import { fieldDrift } from "../drift";
import type { Drift, NodeConfig } from "../types";
import { exists } from "./fs";

export function limitsFilePath(config: NodeConfig, uuid: string): string {
  return path.join(config.limitsDir, `${config.limitsOrder}-${uuid}.conf`);
}

/** File content. OpenShift writes nproc soft; we write soft and hard so a login cannot raise it. */
export function renderLimits(uuid: string, nproc: number): string {
  return `# Managed by Geartrain (node operations); do not edit.\n${uuid} soft nproc ${nproc}\n${uuid} hard nproc ${nproc}\n`;
}

export async function limitsDirExists(config: NodeConfig): Promise<boolean> {
  return fs.stat(config.limitsDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Write the file if the limits dir exists; returns the path written, or null when PAM limits are unavailable. */
export async function writeLimits(config: NodeConfig, uuid: string, nproc: number): Promise<string | null> {
  if (!(await limitsDirExists(config))) return null;
  const file = limitsFilePath(config, uuid);
  const content = renderLimits(uuid, nproc);
  const cur = await fs.readFile(file, "utf8").catch(() => null);
  if (cur !== content) {
    await fs.writeFile(`${file}.tmp`, content, { mode: 0o644 });
    await fs.rename(`${file}.tmp`, file);
  }
  return file;
}

export async function readLimits(config: NodeConfig, uuid: string): Promise<string | null> {
  return fs.readFile(limitsFilePath(config, uuid), "utf8").catch(() => null);
}

/**
 * The limits file and how it differs from nproc `nproc`. file is null (and nothing is compared) when the
 * PAM limits dir does not exist.
 */
export async function readLimitsDrift(
  config: NodeConfig,
  uuid: string,
  nproc: number,
): Promise<{ file: string | null; drift: Drift[] }> {
  if (!(await limitsDirExists(config))) return { file: null, drift: [] };
  const cur = await readLimits(config, uuid);
  return { file: limitsFilePath(config, uuid), drift: fieldDrift("limits", renderLimits(uuid, nproc), cur) };
}

/** No new logins: an existing limits file is rewritten with nproc 0 (the first step of removing a user). */
export async function closeLogins(config: NodeConfig, uuid: string): Promise<void> {
  if (await exists(limitsFilePath(config, uuid))) {
    await fs.writeFile(limitsFilePath(config, uuid), renderLimits(uuid, 0));
  }
}

export async function removeLimits(config: NodeConfig, uuid: string): Promise<void> {
  await fs.rm(limitsFilePath(config, uuid), { force: true });
}
