// A Node.js program's dependencies, as the upstream host handles them: npm installs them
// (`pulumi install`), and package-lock.json says which versions are installed (`pulumi about`).
// Only npm is supported; a project set up for another package manager gets a clear error.
import * as fs from "fs";
import * as path from "path";

export interface Dependency {
  readonly name: string;
  readonly version: string;
}

/** The arguments of the install, as upstream runs it (--loglevel=error hides package.json warnings). */
export const NPM_INSTALL_ARGS: readonly string[] = ["install", "--loglevel=error"];

const OTHER_MANAGERS: Readonly<Record<string, string>> = {
  "yarn.lock": "yarn",
  "pnpm-lock.yaml": "pnpm",
  "bun.lock": "bun",
  "bun.lockb": "bun",
};

/** Nearest ancestor of `start` (itself included) that holds `name`, or undefined. */
export function searchUp(start: string, name: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Checks that npm is the project's package manager: `runtime.options.packagemanager` unset, "auto" or
 * "npm", and, for "auto", no other manager's lock file next to the program. Returns why not, or undefined.
 */
export function packageManagerProblem(option: unknown, programDirectory: string): string | undefined {
  if (option !== undefined && option !== "auto" && option !== "npm") {
    return `runtime.options.packagemanager is ${JSON.stringify(option)}, but Geartrain's Node.js language host supports only npm`;
  }
  if (option === "npm") return undefined;
  for (const [lock, manager] of Object.entries(OTHER_MANAGERS)) {
    if (fs.existsSync(path.join(programDirectory, lock))) {
      return `${lock} says the project uses ${manager}, but Geartrain's Node.js language host supports only npm: set runtime.options.packagemanager to npm in Pulumi.yaml to use npm anyway`;
    }
  }
  return undefined;
}

interface LockEntry {
  version?: string;
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, LockEntry>;
}

interface LockFile {
  lockfileVersion?: number;
  packages?: Record<string, LockEntry>;
  dependencies?: Record<string, LockEntry>;
}

/** Every package in a package-lock.json (v1, v2 or v3), each name@version once, sorted. */
export function lockedPackages(lock: LockFile): Dependency[] {
  const found = new Map<string, Dependency>();
  const add = (name: string, version: string | undefined) => {
    if (name) found.set(`${name}@${version ?? ""}`, { name, version: version ?? "" });
  };
  if (lock.packages) {
    for (const [key, entry] of Object.entries(lock.packages)) {
      const at = key.lastIndexOf("node_modules/");
      if (at < 0) continue; // the root package, or the folder a link points to
      // A linked package (file: dependency, workspace) records its version at the link's target.
      const version = entry.link && entry.resolved ? lock.packages[entry.resolved]?.version : entry.version;
      add(key.slice(at + "node_modules/".length), version);
    }
  } else {
    const walk = (deps: Record<string, LockEntry> | undefined) => {
      for (const [name, entry] of Object.entries(deps ?? {})) {
        add(name, entry.version);
        walk(entry.dependencies);
      }
    };
    walk(lock.dependencies);
  }
  return [...found.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
  );
}

/** Only the packages package.json names (dependencies and devDependencies), each name once. */
export function directOnly(packages: readonly Dependency[], manifest: Record<string, unknown>): Dependency[] {
  const direct = new Set(
    ["dependencies", "devDependencies"].flatMap((field) => Object.keys((manifest[field] as object) ?? {})),
  );
  const seen = new Set<string>();
  return packages.filter((p) => {
    if (!direct.has(p.name) || seen.has(p.name)) return false;
    seen.add(p.name);
    return true;
  });
}

/** The program's dependencies from the nearest package-lock.json, as `pulumi about` lists them. */
export function programDependencies(programDirectory: string, transitive: boolean): Dependency[] {
  const lockPath = searchUp(programDirectory, "package-lock.json");
  if (!lockPath) {
    throw new Error(
      `no package-lock.json found (searching upwards from ${programDirectory}): run \`pulumi install\``,
    );
  }
  const packages = lockedPackages(JSON.parse(fs.readFileSync(lockPath, "utf8")) as LockFile);
  if (transitive) return packages;
  const manifestPath = path.join(path.dirname(lockPath), "package.json");
  if (!fs.existsSync(manifestPath)) throw new Error(`could not find package.json next to ${lockPath}`);
  return directOnly(packages, JSON.parse(fs.readFileSync(manifestPath, "utf8")) as Record<string, unknown>);
}
