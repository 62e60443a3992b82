// The node's cartridge repository (OpenShift's /var/lib/openshift/.cartridge_repository):
// <stateDir>/cartridges/<vendor>-<name>/<Cartridge-Version>/, root-owned and world-readable, because each
// gear's ~/<dir>/usr is a link into it. The state dir is made 0711 for that (gears can pass through it,
// not list it; its other subdirectories stay 0700).

import { promises as fs } from "fs";
import * as path from "path";
import { loadCartridge, type LoadedCartridge } from "../../cartridges/directory";
import { CartridgeError, softwareVersions, type Manifest } from "../../cartridges/manifest";
import { ConflictError, NotFoundError, ValidationError } from "../../common/errors";
import { withMutex } from "../host/lock";
import type { NodeConfig } from "../types";
import { copyTree, exists, treeDigestEntries } from "../host/fs";
import {
  compareVersions,
  validateCartridgeName,
  validateVendor,
  validateVersion,
  VENDOR_PATTERN,
  VERSION_PATTERN,
} from "./model";

/** No such cartridge in the node's repository, or not installed in the gear. */
export class CartridgeNotFoundError extends NotFoundError {}

export function repositoryRoot(config: NodeConfig): string {
  return path.join(config.stateDir, "cartridges");
}

export interface RepositoryEntry {
  readonly name: string;
  readonly vendor: string;
  readonly cartridgeVersion: string;
  readonly versions: readonly string[];
  readonly displayName: string | null;
  readonly categories: readonly string[];
  readonly path: string;
}

function entryOf(c: LoadedCartridge): RepositoryEntry {
  const m = c.manifest;
  return {
    name: m.Name,
    vendor: m["Cartridge-Vendor"],
    cartridgeVersion: m["Cartridge-Version"],
    versions: softwareVersions(m),
    displayName: m["Display-Name"] ?? null,
    categories: m.Categories,
    path: c.dir,
  };
}

/** Make the repository root reachable by gear users (state dir 0711, root 0755). */
async function ensureRoot(config: NodeConfig): Promise<string> {
  await fs.mkdir(config.stateDir, { recursive: true, mode: 0o711 });
  const st = await fs.stat(config.stateDir);
  if ((st.mode & 0o111) !== 0o111) await fs.chmod(config.stateDir, (st.mode & 0o700) | 0o711);
  const root = repositoryRoot(config);
  await fs.mkdir(root, { recursive: true, mode: 0o755 });
  await fs.chmod(root, 0o755);
  return root;
}

export interface AddResult extends RepositoryEntry {
  /** false: an identical copy was already there */
  readonly changed: boolean;
}

/**
 * Add a cartridge directory to the repository after checking it with the manifest module. Re-adding the
 * same content is a no-op; different content under the same Cartridge-Version is refused unless `force`
 * (gears share usr/ with the repository copy, so a version is meant to be immutable).
 */
export async function addToRepository(
  config: NodeConfig,
  srcDir: string,
  opts: { force?: boolean } = {},
): Promise<AddResult> {
  const src = await loadCartridge(path.resolve(srcDir), { envPrefix: config.envPrefix });
  const m = src.manifest;
  const root = await ensureRoot(config);
  const dest = path.join(root, `${m["Cartridge-Vendor"]}-${m.Name}`, m["Cartridge-Version"]);
  return withMutex(`cartridge-repo:${dest}`, async () => {
    if (await exists(dest)) {
      const same =
        JSON.stringify(await treeDigestEntries(src.dir)) === JSON.stringify(await treeDigestEntries(dest));
      if (same)
        return { ...entryOf(await loadCartridge(dest, { envPrefix: config.envPrefix })), changed: false };
      if (!opts.force)
        throw new ConflictError(
          `${m["Cartridge-Vendor"]}-${m.Name} ${m["Cartridge-Version"]} is already in the repository with different content: raise Cartridge-Version, or add with --force`,
        );
    }
    await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o755 });
    const tmp = `${dest}.gt-tmp-${process.pid}`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { mode: 0o700 });
    await copyTree(src.dir, tmp, {
      dirMode: 0o755,
      fileMode: (mode) => (mode & 0o100 ? 0o755 : 0o644),
    });
    await fs.chmod(tmp, 0o755);
    // check the copy exactly as installs will see it
    const loaded = await loadCartridge(tmp, { envPrefix: config.envPrefix });
    const old = `${dest}.gt-old-${process.pid}`;
    if (await exists(dest)) await fs.rename(dest, old);
    await fs.rename(tmp, dest);
    await fs.rm(old, { recursive: true, force: true });
    return { ...entryOf({ ...loaded, dir: dest }), changed: true };
  });
}

/**
 * Load the repository's cartridges (invalid entries are reported, not thrown); only the `<vendor>-<Name>`
 * directories `wanted` accepts (addToRepository names each from its manifest).
 */
async function loadRepository(
  config: NodeConfig,
  wanted: (vendor: string, name: string) => boolean = () => true,
): Promise<{ loaded: LoadedCartridge[]; problems: string[] }> {
  const root = repositoryRoot(config);
  const loaded: LoadedCartridge[] = [];
  const problems: string[] = [];
  for (const vn of (await fs.readdir(root).catch(() => [] as string[])).sort()) {
    const i = vn.indexOf("-");
    if (i <= 0 || !VENDOR_PATTERN.test(vn.slice(0, i)) || !wanted(vn.slice(0, i), vn.slice(i + 1))) continue;
    for (const ver of (await fs.readdir(path.join(root, vn)).catch(() => [] as string[])).sort(
      compareVersions,
    )) {
      if (!VERSION_PATTERN.test(ver)) continue;
      try {
        loaded.push(await loadCartridge(path.join(root, vn, ver), { envPrefix: config.envPrefix }));
      } catch (e) {
        problems.push(e instanceof CartridgeError ? e.message : `${vn}/${ver}: ${(e as Error).message}`);
      }
    }
  }
  return { loaded, problems };
}

/** Every cartridge in the repository (invalid entries are reported, not thrown). */
export async function listRepository(
  config: NodeConfig,
): Promise<{ cartridges: RepositoryEntry[]; problems: string[] }> {
  const { loaded, problems } = await loadRepository(config);
  return { cartridges: loaded.map(entryOf), problems };
}

export interface CartridgeRequest {
  readonly name: string;
  readonly vendor?: string;
  /** software version (default: the manifest's Version) */
  readonly version?: string;
  readonly cartridgeVersion?: string;
}

export function validateRequest(input: unknown): CartridgeRequest {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new ValidationError("request", "must be a JSON object");
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!["name", "vendor", "version", "cartridgeVersion"].includes(k))
      throw new ValidationError(k, "unknown field (allowed: name, vendor, version, cartridgeVersion)");
  return {
    name: validateCartridgeName(o.name, "name"),
    ...(o.vendor !== undefined ? { vendor: validateVendor(o.vendor) } : {}),
    ...(o.version !== undefined ? { version: validateVersion(o.version) } : {}),
    ...(o.cartridgeVersion !== undefined
      ? { cartridgeVersion: validateVersion(o.cartridgeVersion, "cartridgeVersion") }
      : {}),
  };
}

/**
 * The repository cartridge for a request: Name (and vendor) match, the software version is supported, and
 * the highest Cartridge-Version wins unless one is asked for.
 */
export async function resolveCartridge(
  config: NodeConfig,
  req: CartridgeRequest,
): Promise<{ cartridge: LoadedCartridge; version: string }> {
  // only the directories of that Name are loaded (each load reads and checks a whole cartridge)
  const { loaded } = await loadRepository(
    config,
    (vendor, name) => name === req.name && (!req.vendor || vendor === req.vendor),
  );
  const candidates = loaded
    .map((cartridge) => ({ ...entryOf(cartridge), cartridge }))
    .filter((c) => c.name === req.name && (!req.vendor || c.vendor === req.vendor))
    .filter((c) => !req.cartridgeVersion || c.cartridgeVersion === req.cartridgeVersion)
    .filter((c) => !req.version || c.versions.includes(req.version));
  if (candidates.length === 0) {
    const { cartridges } = await listRepository(config);
    const have = cartridges.map((c) => `${c.vendor}-${c.name} ${c.cartridgeVersion}`).join(", ") || "none";
    throw new CartridgeNotFoundError(
      `no cartridge ${req.vendor ? `${req.vendor}-` : ""}${req.name}${req.version ? ` for version ${req.version}` : ""}${
        req.cartridgeVersion ? ` at Cartridge-Version ${req.cartridgeVersion}` : ""
      } in the node repository (have: ${have}); add it with: geartrain node cartridge repo add <dir>`,
    );
  }
  const vendors = [...new Set(candidates.map((c) => c.vendor))];
  if (vendors.length > 1)
    throw new ValidationError(
      "vendor",
      `${req.name} is offered by ${vendors.join(", ")}: name one with --vendor`,
    );
  candidates.sort((a, b) => compareVersions(b.cartridgeVersion, a.cartridgeVersion));
  const { cartridge } = candidates[0];
  const manifest: Manifest = cartridge.manifest;
  return { cartridge, version: req.version ?? manifest.Version };
}
