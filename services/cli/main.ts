// The `geartrain` command line: a thin dispatcher to the command groups.
// Each group module exports a `CommandGroup` (common/cli.ts): `run(argv): Promise<number>` and a summary.

import * as fs from "fs";
import * as path from "path";
import type { CommandGroup } from "../../common/cli";

/** Groups are loaded lazily so `geartrain --help` stays fast and one group's deps never slow another. */
const GROUPS: Record<string, () => Promise<CommandGroup>> = {
  agent: async () => (await import("../agent/cli")).group,
  admin: async () => (await import("./groups/admin")).group,
  app: async () => (await import("./groups/app")).group,
  broker: async () => (await import("../broker/cli")).group,
  // the broker's cartridge verbs (add, remove, list); `lint` goes on to cartridges/cli
  cartridge: async () => (await import("./groups/cartridge")).group,
  check: async () => (await import("./groups/check")).group,
  domain: async () => (await import("./groups/domain")).group,
  env: async () => (await import("./groups/env")).group,
  login: async () => (await import("./groups/login")).group,
  node: async () => (await import("../../node/cli/main")).group,
  review: async () => (await import("./groups/review")).group,
  sshkey: async () => (await import("./groups/sshkey")).group,
};

const USAGE_HEAD = `geartrain: an OpenShift-Origin-v2-style PaaS as Pulumi code

Usage: geartrain <group> <command> [options]
       geartrain --version

Groups:`;

async function usage(): Promise<string> {
  const lines = [USAGE_HEAD];
  for (const name of Object.keys(GROUPS).sort()) {
    const group = await GROUPS[name]();
    lines.push(`  ${name.padEnd(12)}${group.summary}`);
  }
  lines.push("", "Run `geartrain <group> --help` for a group's commands.");
  return lines.join("\n");
}

/**
 * "geartrain <version> (release <key>)" in an installed release (its release.json beside package.json,
 * components/release), "geartrain <version> (checkout <dir>)" in a checkout.
 */
export function versionLine(from: string = __dirname): string {
  for (let dir = from; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const pkgFile = path.join(dir, "package.json");
    if (!fs.existsSync(pkgFile)) continue;
    const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8")) as { name?: string; version?: string };
    if (pkg.name !== "geartrain") continue;
    const manifest = path.join(dir, "release.json");
    if (!fs.existsSync(manifest)) return `geartrain ${pkg.version} (checkout ${dir})`;
    const r = JSON.parse(fs.readFileSync(manifest, "utf8")) as { key?: string };
    return `geartrain ${pkg.version} (release ${r.key}, node ${process.version})`;
  }
  return "geartrain (unknown version)";
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "version") {
    console.log(versionLine());
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(await usage());
    return 0;
  }
  const load = GROUPS[name];
  if (!load) {
    console.error(`geartrain: unknown command group '${name}'\n\n${await usage()}`);
    return 2;
  }
  return (await load()).run(rest);
}
