// Pure half of the release bundle (no I/O, no Pulumi): which files of a checkout a release carries, the
// bundle's key, the paths it is installed at, and the InstalledRelease args' validation. bundle.ts walks the
// checkout and writes the archive; provider.ts installs it. docs/platform.md "Release".
import * as crypto from "crypto";
import { ValidationError } from "../../common/errors";

/** Bumped when the bundle's layout or the key's recipe changes: every key changes with it. */
export const BUNDLE_FORMAT = "geartrain-release-1";
/** Hex digits of the key that name a release (64 bits). */
export const KEY_LENGTH = 16;
const KEY = new RegExp(`^[0-9a-f]{${KEY_LENGTH}}$`);
/** Where the bundled Node.js binary is inside a release. */
export const RUNTIME_NODE = "runtime/bin/node";
/** The entry script inside a release. */
export const ENTRY = "bin/geartrain";
/** bin/ scripts a release carries: the entry, and the gear git sshd's forced command (bin/gear-shell, beside it). */
export const BIN_SCRIPTS: readonly string[] = [ENTRY, "bin/gear-shell"];
/** The release's own description, written into the bundle (the last file the host checks). */
export const MANIFEST = "release.json";

/** Source folders of the checkout whose non-TypeScript files the programs read at run time. */
export const ASSET_DIRS = ["cartridges", "common", "node", "quickstarts", "services"] as const;
/** dist/ folders that are never run on a host (tests and benchmarks). */
const DIST_EXCLUDED = ["dist/test/", "dist/bench/"];

export const DEFAULTS = {
  directory: "/opt/geartrain",
  keep: 2,
} as const;

/** One entry of package-lock.json's `packages` (lockfileVersion 2 or 3). */
export interface LockPackage {
  readonly version?: string;
  readonly integrity?: string;
  readonly resolved?: string;
  readonly dev?: boolean;
  readonly devOptional?: boolean;
  readonly optional?: boolean;
  readonly link?: boolean;
}

export interface LockFile {
  readonly lockfileVersion?: number;
  readonly packages?: Readonly<Record<string, LockPackage>>;
}

/** A production package: its folder in the checkout and what identifies its content. */
export interface ProductionPackage {
  readonly path: string;
  readonly version: string;
  readonly integrity: string;
}

/**
 * The packages `npm ci --omit=dev` would keep, from package-lock.json alone: every entry not marked `dev`.
 * `devOptional` entries (a dev dependency that is also an optional peer of a production one, like
 * typescript for node-pg-migrate) are left out too: nothing at run time requires them. Links are refused
 * (a release carries copies).
 */
export function productionPackages(lock: LockFile): ProductionPackage[] {
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) {
    throw new ValidationError(
      "package-lock.json",
      "needs lockfileVersion 2 or 3 (a `packages` map); run `npm install --package-lock-only` with npm ≥ 7",
    );
  }
  const out: ProductionPackage[] = [];
  for (const [p, entry] of Object.entries(lock.packages)) {
    if (p === "" || entry.dev || entry.devOptional) continue;
    if (!p.startsWith("node_modules/") || p.split("/").includes("..")) {
      throw new ValidationError("package-lock.json", `package path '${p}' is not under node_modules/`);
    }
    if (entry.link) {
      throw new ValidationError("package-lock.json", `${p} is a link; a release carries copies only`);
    }
    out.push({ path: p, version: entry.version ?? "", integrity: entry.integrity ?? entry.resolved ?? "" });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Whether a file of the checkout (path relative to it, `/`-separated) belongs in the release: the built
 * code (dist/ but its tests, benchmarks and type declarations), bin/geartrain and bin/gear-shell (the forced
 * command of the gears' git sshd, node/deploy/ssh-keys.ts: a node refuses a key without it), package.json, and the
 * run-time assets of ASSET_DIRS (templates, cartridges, SELinux sources, migrations, quickstarts: every file
 * there but TypeScript, snapshots and dotfiles). node_modules is chosen by package (productionPackages).
 */
export function isReleaseFile(rel: string): boolean {
  if (rel === "package.json" || BIN_SCRIPTS.includes(rel)) return true;
  const parts = rel.split("/");
  if (parts.some((p) => p.startsWith(".") || p === "__snapshots__" || p === "node_modules")) return false;
  if (rel.startsWith("dist/")) {
    if (DIST_EXCLUDED.some((d) => rel.startsWith(d))) return false;
    return /\.(js|json|map)$/.test(rel) && !rel.endsWith(".tsbuildinfo");
  }
  if ((ASSET_DIRS as readonly string[]).includes(parts[0]) && parts.length > 1) return !rel.endsWith(".ts");
  return false;
}

/** Inside a production package: everything but its own nested node_modules (each has its own lock entry) and .bin. */
export function isPackageFile(relInPackage: string): boolean {
  const parts = relInPackage.split("/");
  return !parts.includes("node_modules") && !parts.includes(".bin");
}

/** What the key is computed from: every input that changes what the release runs. */
export interface KeyInputs {
  /** Checkout files: archive path and sha256 of the content, and whether it is executable. */
  readonly files: readonly { readonly path: string; readonly sha256: string; readonly executable: boolean }[];
  readonly packages: readonly ProductionPackage[];
  /** The bundled Node.js: its version, platform and architecture (process.version, .platform, .arch) and size. */
  readonly runtime: {
    readonly version: string;
    readonly platform: string;
    readonly arch: string;
    readonly size: number;
  };
}

/**
 * The release's key: a hash of the bundle format, every checkout file's content, every production package's
 * lock identity (version + integrity: npm ci installs exactly that content) and the Node.js runtime. Same
 * inputs, same key, in any order; KEY_LENGTH hex digits.
 */
export function bundleKey(inputs: KeyInputs): string {
  const h = crypto.createHash("sha256").update(`${BUNDLE_FORMAT}\n`);
  const files = [...inputs.files].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const f of files) h.update(`F ${f.path} ${f.executable ? 755 : 644} ${f.sha256}\n`);
  const pkgs = [...inputs.packages].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const p of pkgs) h.update(`P ${p.path} ${p.version} ${p.integrity}\n`);
  const r = inputs.runtime;
  h.update(`N ${RUNTIME_NODE} ${r.version} ${r.platform} ${r.arch} ${r.size}\n`);
  return h.digest("hex").slice(0, KEY_LENGTH);
}

/** `uname -m` for a Node.js `process.arch`, so a host of another architecture is refused before upload. */
export function machineOf(arch: string): string {
  const m: Record<string, string> = {
    x64: "x86_64",
    arm64: "aarch64",
    arm: "armv7l",
    ppc64: "ppc64le",
    s390x: "s390x",
  };
  return m[arch] ?? arch;
}

/** The manifest written into the bundle: no time, no path of this machine (same inputs, same bytes). */
export function renderManifest(key: string, packageVersion: string, runtime: KeyInputs["runtime"]): string {
  return (
    JSON.stringify(
      {
        format: BUNDLE_FORMAT,
        key,
        version: packageVersion,
        node: { version: runtime.version, platform: runtime.platform, arch: runtime.arch },
        entry: ENTRY,
        runtime: RUNTIME_NODE,
      },
      null,
      2,
    ) + "\n"
  );
}

/** Where a release is on its host. */
export interface ReleasePaths {
  readonly directory: string;
  readonly releases: string;
  readonly release: string;
  readonly node: string;
  readonly entry: string;
  readonly current: string;
}

export function releasePaths(directory: string, key: string): ReleasePaths {
  const release = `${directory}/releases/${key}`;
  return {
    directory,
    releases: `${directory}/releases`,
    release,
    node: `${release}/${RUNTIME_NODE}`,
    entry: `${release}/${ENTRY}`,
    current: `${directory}/current`,
  };
}

const DIRECTORY = /^\/[A-Za-z0-9._/@+-]*[A-Za-z0-9._@+-]$/;

export function validateKey(key: string): string {
  if (!KEY.test(key))
    throw new ValidationError("key", `release key '${key}' must be ${KEY_LENGTH} hex digits`);
  return key;
}

/** InstalledRelease's args, resolved: bad input fails naming the field, before anything is declared. */
export function resolveInstall(args: { directory?: string; keep?: number }): {
  directory: string;
  keep: number;
} {
  const directory = args.directory ?? DEFAULTS.directory;
  if (!DIRECTORY.test(directory) || directory.split("/").includes("..") || directory.split("/").length < 3) {
    throw new ValidationError(
      "directory",
      `'${directory}' must be an absolute path of [A-Za-z0-9._/@+-], at least two levels deep (not / or /opt), with no '..' and no trailing /`,
    );
  }
  const keep = args.keep ?? DEFAULTS.keep;
  if (!Number.isInteger(keep) || keep < 1 || keep > 10) {
    throw new ValidationError(
      "keep",
      `keep must be an integer in 1..10 (releases kept on the host), got ${keep}`,
    );
  }
  return { directory, keep };
}
