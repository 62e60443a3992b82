// The release bundle of a checkout (I/O half; the rules are in resolve.ts, the tar headers in tar.ts): its
// key, computed on every program run from dist/ and the run-time assets (content), package-lock.json (the
// production packages' identities) and the Node.js runtime; and its archive, a deterministic .tar.gz built
// only when the cache has none for that key: <cache>/releases/<key>.tar.gz, outside the checkout (nothing is
// ever written into it). The cache is $GEARTRAIN_CACHE, else $XDG_CACHE_HOME/geartrain, else ~/.cache/geartrain.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { pipeline } from "stream/promises";
import * as zlib from "zlib";
import { UnavailableError } from "../../common/errors";
import {
  ASSET_DIRS,
  bundleKey,
  ENTRY,
  isPackageFile,
  isReleaseFile,
  KeyInputs,
  LockFile,
  machineOf,
  MANIFEST,
  ProductionPackage,
  productionPackages,
  renderManifest,
  RUNTIME_NODE,
} from "./resolve";
import { entryHeader, padding, TarEntry, trailer } from "./tar";

/** Archives kept in the cache (the newest by mtime); older ones are removed after a build. */
const CACHE_KEEP = 3;

/** One file of the bundle: where it goes in the archive and where its bytes come from. */
export interface BundleFile {
  readonly path: string;
  readonly source: string;
  readonly executable: boolean;
}

export interface BundlePlan {
  readonly checkout: string;
  readonly key: string;
  readonly packageVersion: string;
  /** Checkout files (dist/, bin/, package.json, assets), sorted by archive path. */
  readonly files: readonly BundleFile[];
  readonly packages: readonly ProductionPackage[];
  readonly runtime: KeyInputs["runtime"] & { readonly source: string };
}

export interface PlanOptions {
  /** The Node.js binary to ship. @default process.execPath */
  readonly runtime?: string;
  /** Its version, platform and architecture. @default this process's */
  readonly runtimeVersion?: string;
  readonly runtimePlatform?: string;
  readonly runtimeArch?: string;
}

function sha256File(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function walk(root: string, rel: string, out: string[]): void {
  const abs = path.join(root, rel);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(abs, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  for (const d of entries) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) walk(root, r, out);
    else if (d.isFile()) out.push(r);
  }
}

/** The checkout's release files (resolve.ts isReleaseFile), relative and sorted. */
export function checkoutFiles(checkout: string): string[] {
  const found: string[] = [];
  for (const top of ["dist", "bin", ...ASSET_DIRS]) walk(checkout, top, found);
  if (fs.existsSync(path.join(checkout, "package.json"))) found.push("package.json");
  return found.filter(isReleaseFile).sort();
}

/**
 * What the release of `checkout` carries and its key. Reads dist/ and the assets (a few MB) and each
 * production package's package.json; fails, naming the fix, when dist/ is not built or node_modules does not
 * match package-lock.json.
 */
export function planBundle(checkout: string, opts: PlanOptions = {}): BundlePlan {
  const entry = path.join(checkout, "dist/services/cli/main.js");
  if (!fs.existsSync(entry)) {
    throw new UnavailableError(
      `${entry} is missing: the release ships the built code. Fix: npm run build in ${checkout}`,
    );
  }
  const rels = checkoutFiles(checkout);
  const files: BundleFile[] = rels.map((r) => {
    const source = path.join(checkout, r);
    return { path: r, source, executable: (fs.statSync(source).mode & 0o111) !== 0 };
  });
  const lockFile = path.join(checkout, "package-lock.json");
  if (!fs.existsSync(lockFile))
    throw new UnavailableError(`${lockFile} is missing: a release needs the lock file`);
  const lock = JSON.parse(fs.readFileSync(lockFile, "utf8")) as LockFile;
  const packages: ProductionPackage[] = [];
  for (const p of productionPackages(lock)) {
    const pj = path.join(checkout, p.path, "package.json");
    if (!fs.existsSync(pj)) {
      if (lock.packages?.[p.path]?.optional) continue; // an optional package npm did not install here
      throw new UnavailableError(`${p.path} is not installed. Fix: npm ci in ${checkout}`);
    }
    const installed = (JSON.parse(fs.readFileSync(pj, "utf8")) as { version?: string }).version ?? "";
    if (p.version && installed !== p.version) {
      throw new UnavailableError(
        `${p.path} is ${installed}, package-lock.json says ${p.version}. Fix: npm ci in ${checkout}`,
      );
    }
    packages.push(p);
  }
  const source = fs.realpathSync(opts.runtime ?? process.execPath);
  const runtime = {
    source,
    version: opts.runtimeVersion ?? process.version,
    platform: opts.runtimePlatform ?? process.platform,
    arch: opts.runtimeArch ?? process.arch,
    size: fs.statSync(source).size,
  };
  const key = bundleKey({
    files: files.map((f) => ({ path: f.path, sha256: sha256File(f.source), executable: f.executable })),
    packages,
    runtime,
  });
  const packageVersion =
    (JSON.parse(fs.readFileSync(path.join(checkout, "package.json"), "utf8")) as { version?: string })
      .version ?? "0.0.0";
  return { checkout, key, packageVersion, files, packages, runtime };
}

type ArchiveItem = TarEntry & { readonly source?: string; readonly content?: Buffer };

/** Every entry of the archive, sorted by path, with the directories that hold them. */
export function archiveEntries(plan: BundlePlan): ArchiveItem[] {
  const items = new Map<string, ArchiveItem>();
  const addFile = (p: string, source: string, executable: boolean) =>
    items.set(p, { type: "file", path: p, size: fs.statSync(source).size, executable, source });
  for (const f of plan.files) addFile(f.path, f.source, f.executable);
  for (const pkg of plan.packages) {
    const found: string[] = [];
    const dir = path.join(plan.checkout, pkg.path);
    const walkPkg = (rel: string) => {
      for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${d.name}` : d.name;
        if (!isPackageFile(r)) continue;
        if (d.isDirectory()) walkPkg(r);
        else if (d.isFile()) found.push(r);
        else if (d.isSymbolicLink()) {
          const target = fs.readlinkSync(path.join(dir, r));
          const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(r), target));
          if (path.isAbsolute(target) || resolved.startsWith("..")) {
            throw new UnavailableError(
              `${pkg.path}/${r} links outside its package (${target}); a release cannot carry it`,
            );
          }
          items.set(`${pkg.path}/${r}`, { type: "symlink", path: `${pkg.path}/${r}`, target });
        }
      }
    };
    walkPkg("");
    for (const r of found) {
      const source = path.join(dir, r);
      addFile(`${pkg.path}/${r}`, source, (fs.statSync(source).mode & 0o111) !== 0);
    }
  }
  addFile(RUNTIME_NODE, plan.runtime.source, true);
  const manifest = Buffer.from(renderManifest(plan.key, plan.packageVersion, plan.runtime));
  items.set(MANIFEST, {
    type: "file",
    path: MANIFEST,
    size: manifest.length,
    executable: false,
    content: manifest,
  });
  for (const p of [...items.keys()]) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!items.has(`${d}/`)) items.set(`${d}/`, { type: "directory", path: d });
    }
  }
  return [...items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

async function* tarStream(items: readonly ArchiveItem[]): AsyncGenerator<Buffer> {
  for (const item of items) {
    yield entryHeader(item);
    if (item.type !== "file") continue;
    if (item.content) {
      yield item.content;
    } else {
      let n = 0;
      for await (const chunk of fs.createReadStream(item.source!)) {
        n += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (n !== item.size) throw new Error(`${item.source} changed while the release was archived`);
    }
    yield padding(item.size);
  }
  yield trailer();
}

/** Writes the plan's archive (tar, gzip) to `file`: the same plan gives the same bytes. */
export async function writeArchive(plan: BundlePlan, file: string): Promise<void> {
  await pipeline(
    Readable.from(tarStream(archiveEntries(plan))),
    zlib.createGzip({ level: 6 }),
    fs.createWriteStream(file, { mode: 0o644 }),
  );
}

/** The cache folder (outside every checkout). */
export function cacheDir(): string {
  const base =
    process.env.GEARTRAIN_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "geartrain");
  return path.join(base, "releases");
}

export interface BuiltArchive {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** false: the cache had it already */
  readonly built: boolean;
}

/**
 * The archive of `plan` in `dir` (default cacheDir()), built only when missing: written beside, then renamed
 * (a half-written archive is never seen), then the cache pruned to its newest CACHE_KEEP archives.
 */
export async function ensureArchive(plan: BundlePlan, dir: string = cacheDir()): Promise<BuiltArchive> {
  const file = path.join(dir, `${plan.key}.tar.gz`);
  const resolvedDir = path.resolve(dir);
  if (resolvedDir === plan.checkout || resolvedDir.startsWith(`${plan.checkout}${path.sep}`)) {
    throw new UnavailableError(
      `the release cache ${dir} is inside the checkout; set GEARTRAIN_CACHE elsewhere`,
    );
  }
  let built = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const tmp = path.join(dir, `.${plan.key}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
    try {
      await writeArchive(plan, tmp);
      fs.renameSync(tmp, file);
      built = true;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    pruneCache(dir, file);
  }
  const content = fs.readFileSync(file);
  return {
    path: file,
    bytes: content.length,
    sha256: crypto.createHash("sha256").update(content).digest("hex"),
    built,
  };
}

function pruneCache(dir: string, keep: string): void {
  const archives = fs
    .readdirSync(dir)
    .filter((f) => /^[0-9a-f]+\.tar\.gz$/.test(f))
    .map((f) => ({ f: path.join(dir, f), t: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const a of archives.slice(CACHE_KEEP)) if (a.f !== keep) fs.rmSync(a.f, { force: true });
}

/** A checkout's release: its key at once, its archive on demand (built once per process). */
export interface ReleaseBundle {
  readonly key: string;
  readonly plan: BundlePlan;
  /** `uname -m` of the hosts it runs on (its Node.js's architecture). */
  readonly machine: string;
  /** Where its archive is (or will be) on this machine: <cache>/<key>.tar.gz. */
  readonly archivePath: string;
  /** Builds the archive if the cache lacks it (once per process). */
  archive(): Promise<BuiltArchive>;
}

const bundles = new Map<string, ReleaseBundle>();

/** The release bundle of `checkout` (memoized per checkout, cache and runtime in this process). */
export function releaseBundle(
  checkout: string,
  opts: PlanOptions & { cacheDir?: string } = {},
): ReleaseBundle {
  const dir = opts.cacheDir ?? cacheDir();
  const id = JSON.stringify([checkout, dir, opts.runtime ?? process.execPath]);
  let b = bundles.get(id);
  if (!b) {
    const plan = planBundle(checkout, opts);
    let pending: Promise<BuiltArchive> | undefined;
    b = {
      key: plan.key,
      plan,
      machine: machineOf(plan.runtime.arch),
      archivePath: path.join(dir, `${plan.key}.tar.gz`),
      archive: () => (pending ??= ensureArchive(plan, dir)),
    };
    bundles.set(id, b);
  }
  return b;
}

export { ENTRY, RUNTIME_NODE };
