// Finds the resource provider plugins a program needs, the way the upstream Node.js host does:
// every package under node_modules whose package.json has `"pulumi": {"resource": true}`.
import * as fs from "fs";
import * as path from "path";

export interface RequiredPackage {
  readonly name: string;
  /** Semver with a leading "v", as the engine expects. */
  readonly version: string;
  readonly server: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  pulumi?: { resource?: boolean; name?: string; version?: string; server?: string };
}

function readPackageJson(file: string): PackageJson | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson;
  } catch {
    return undefined;
  }
}

/** Plugin name: `pulumi.name`, else the simple name of an `@pulumi/` package. */
function pluginName(pkg: PackageJson): string | undefined {
  if (pkg.pulumi?.name) return pkg.pulumi.name;
  if (pkg.name?.startsWith("@pulumi/")) return pkg.name.slice("@pulumi/".length);
  return undefined;
}

function packageDirs(nodeModules: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(nodeModules, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const dir = path.join(nodeModules, entry.name);
    if (entry.name.startsWith("@")) {
      for (const scoped of fs.readdirSync(dir, { withFileTypes: true })) {
        if (scoped.isDirectory()) dirs.push(path.join(dir, scoped.name));
      }
    } else {
      dirs.push(dir);
    }
  }
  return dirs;
}

/** Scans `<root>/node_modules` (one level, plus scopes); sorted and de-duplicated for stable output. */
export function findRequiredPackages(root: string): RequiredPackage[] {
  const found = new Map<string, RequiredPackage>();
  for (const dir of packageDirs(path.join(root, "node_modules"))) {
    const pkg = readPackageJson(path.join(dir, "package.json"));
    if (!pkg?.pulumi?.resource) continue;
    const name = pluginName(pkg);
    const raw = pkg.pulumi.version ?? pkg.version;
    if (!name || !raw) continue;
    const version = raw.startsWith("v") ? raw : `v${raw}`;
    found.set(`${name}@${version}`, { name, version, server: pkg.pulumi.server ?? "" });
  }
  return [...found.values()].sort((a, b) => (a.name + a.version).localeCompare(b.name + b.version));
}
