// What the node knows about the cartridges of a gear: one record per cartridge in ~/.geartrain/cartridges/
// <dir>.json (root:gear 0640 in a root:gear 0750 directory: the gear can read, never change, what root
// later removes). Removed with the home when the gear is destroyed. Also the gear's received connections.

import * as path from "path";
import type { Manifest } from "../../cartridges/manifest";
import type { EndpointBinding, InstallStep } from "./model";
import { CARTRIDGE_DIR_PATTERN, validateCartridgeName } from "./model";
import { GearDir, listNoFollow, readNodeFile, removeRootFile, writeRootFile } from "../host/gear-fs";

export type CartridgePhase = "installing" | "installed" | "removing";

export interface CartridgeRecord {
  readonly name: string;
  readonly vendor: string;
  readonly shortName: string;
  readonly dir: string;
  readonly softwareVersion: string;
  readonly cartridgeVersion: string;
  readonly ident: string;
  /** the repository copy the cartridge came from (its usr/ is linked from the gear) */
  readonly repoPath: string;
  /** the manifest as installed (Version-Overrides applied) */
  readonly manifest: Manifest;
  readonly phase: CartridgePhase;
  /** install: the step reached (for a crashed install) */
  readonly step: InstallStep | null;
  /** what the last start/stop asked for; inspect reports a difference as drift */
  readonly desired: "started" | "stopped";
  /** variables the node wrote into ~/.env for it (name → value) */
  readonly env: Readonly<Record<string, string>>;
  /** Private-IP-Name → host id in the gear's loopback block */
  readonly hostIds: Readonly<Record<string, number>>;
  readonly endpoints: readonly EndpointBinding[];
  /**
   * Entries it created at install at the top of the gear's app-root/{data,logs,runtime,runtime/repo}
   * (relative to the home); removed with it.
   */
  readonly owned: readonly string[];
  /** while installing: the top-level entries of those dirs before the install began */
  readonly baseline?: Readonly<Record<string, readonly string[]>>;
}

export function metaDir(home: string): string {
  return path.join(home, ".geartrain");
}

export function recordsDir(home: string): string {
  return path.join(metaDir(home), "cartridges");
}

export function recordPath(home: string, dir: string): string {
  return path.join(recordsDir(home), `${dir}.json`);
}

/** Create ~/.geartrain/cartridges (root:gear 0750). The home is root-owned, so nothing can race this. */
export async function ensureMetaDirs(home: string, gid: number): Promise<void> {
  for (const d of [metaDir(home), recordsDir(home)]) {
    await GearDir.withDir(path.dirname(d), async (parent) => {
      const name = path.basename(d);
      await parent.mkdir(name, 0o750);
      await parent.fixOwnerMode(name, { uid: 0, gid }, 0o750, true); // fails on anything but a directory
    });
  }
}

export async function readRecord(home: string, dir: string): Promise<CartridgeRecord | null> {
  const text = await readNodeFile(recordPath(home, dir), { owners: [0] });
  return text === null ? null : (JSON.parse(text) as CartridgeRecord);
}

export async function writeRecord(home: string, gid: number, rec: CartridgeRecord): Promise<void> {
  await ensureMetaDirs(home, gid);
  await writeRootFile(recordPath(home, rec.dir), JSON.stringify(rec, null, 2) + "\n", 0o640, 0, gid);
}

export async function removeRecord(home: string, dir: string): Promise<void> {
  await removeRootFile(recordPath(home, dir));
}

/** Remove ~/.geartrain/cartridges and ~/.geartrain when nothing is left in them. */
export async function removeMetaIfEmpty(home: string): Promise<void> {
  for (const d of [recordsDir(home), metaDir(home)]) {
    const parent = await GearDir.open(path.dirname(d));
    await parent?.rmdir(path.basename(d));
    await parent?.close();
  }
}

/** Every record of the gear, sorted by dir. */
export async function listRecords(home: string): Promise<CartridgeRecord[]> {
  const out: CartridgeRecord[] = [];
  for (const n of await listNoFollow(recordsDir(home))) {
    if (!n.endsWith(".json") || !CARTRIDGE_DIR_PATTERN.test(n.slice(0, -5))) continue;
    const r = await readRecord(home, n.slice(0, -5));
    if (r) out.push(r);
  }
  return out;
}

/** The record of a cartridge by Name or by directory. */
export async function findRecord(home: string, name: string): Promise<CartridgeRecord | null> {
  validateCartridgeName(name, "cartridge");
  for (const r of await listRecords(home)) if (r.name === name || r.dir === name) return r;
  return null;
}

/** The record of a finished install: no step, what it created, and no baseline (only for undoing). */
export function installedRecord(rec: CartridgeRecord, owned: readonly string[]): CartridgeRecord {
  const { baseline, ...installed } = rec; // the baseline only serves to undo a crashed install
  return { ...installed, phase: "installed", step: null, owned };
}

// ---------------------------------------------------------------------------------------------------------
// Connections received by a gear (publish/subscribe)

export interface Connections {
  /** variables in ~/.env written from publications: name → "<publisher uuid>/<dir>" */
  readonly vars: Readonly<Record<string, string>>;
  /** subscriber hook runs: "<dir>/<event>" → the input it last ran with */
  readonly hooks: Readonly<Record<string, string>>;
}

export function connectionsPath(home: string): string {
  return path.join(metaDir(home), "connections.json");
}

export async function readConnections(home: string): Promise<Connections> {
  const text = await readNodeFile(connectionsPath(home), { owners: [0] });
  return text === null ? { vars: {}, hooks: {} } : (JSON.parse(text) as Connections);
}

export async function writeConnections(home: string, gid: number, c: Connections): Promise<void> {
  if (Object.keys(c.vars).length === 0 && Object.keys(c.hooks).length === 0) {
    await removeRootFile(connectionsPath(home));
    await removeMetaIfEmpty(home);
    return;
  }
  await ensureMetaDirs(home, gid);
  await writeRootFile(connectionsPath(home), JSON.stringify(c, null, 2) + "\n", 0o640, 0, gid);
}
