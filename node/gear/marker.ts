// Gear markers: <stateDir>/gears/<uuid>.json holds the desired spec and the phase. Written before any host
// change (phase "creating"), so a create interrupted at any point is found and completed; "destroying" likewise.

import { promises as fs } from "fs";
import * as path from "path";
import { NotFoundError } from "../../common/errors";
import type { GearPhase, GearSpec, NodeConfig } from "../types";

export interface Marker {
  readonly phase: GearPhase;
  readonly spec: GearSpec;
  /** disk limit mode chosen at create (kept so a later config change never orphans a loop image) */
  readonly disk: "quota" | "loop" | "unenforced";
}

/** No gear with this uuid on this node (no marker, no account). */
export class GearNotFoundError extends NotFoundError {
  constructor(uuid: string) {
    super(`gear ${uuid} not found on this node`);
  }
}

export function markerDir(config: NodeConfig): string {
  return path.join(config.stateDir, "gears");
}

export function markerPath(config: NodeConfig, uuid: string): string {
  return path.join(markerDir(config), `${uuid}.json`);
}

export function lockPath(config: NodeConfig, uuid: string): string {
  return path.join(config.stateDir, "locks", `${uuid}.lock`);
}

/** The node-wide lock under which a gear's application (node/gear/application.ts) is checked and taken. */
export function applicationsLockPath(config: NodeConfig): string {
  return path.join(config.stateDir, "locks", "applications.lock");
}

export async function ensureStateDirs(config: NodeConfig): Promise<void> {
  for (const d of [config.gearBaseDir]) await fs.mkdir(d, { recursive: true, mode: 0o755 });
  for (const d of [config.stateDir, markerDir(config), path.join(config.stateDir, "locks")]) {
    await fs.mkdir(d, { recursive: true, mode: 0o700 });
  }
}

export async function readMarker(config: NodeConfig, uuid: string): Promise<Marker | null> {
  const text = await fs.readFile(markerPath(config, uuid), "utf8").catch(() => null);
  if (text === null) return null;
  return JSON.parse(text) as Marker;
}

/** Atomic replace (write temp + fsync + rename). */
export async function writeMarker(config: NodeConfig, marker: Marker): Promise<void> {
  const file = markerPath(config, marker.spec.uuid);
  const tmp = `${file}.tmp`;
  const h = await fs.open(tmp, "w", 0o600);
  try {
    await h.writeFile(JSON.stringify(marker, null, 2) + "\n");
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}

export async function removeMarker(config: NodeConfig, uuid: string): Promise<void> {
  await fs.rm(markerPath(config, uuid), { force: true });
}

export async function listMarkers(config: NodeConfig): Promise<string[]> {
  const names = await fs.readdir(markerDir(config)).catch(() => [] as string[]);
  return names
    .filter((n) => /^[0-9a-f]{32}\.json$/.test(n))
    .map((n) => n.slice(0, 32))
    .sort();
}
