// The `geartrain` command line: a thin dispatcher to the command groups.
// Each group module exports a `CommandGroup` (common/cli.ts): `run(argv): Promise<number>` and a summary.

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
  sshkey: async () => (await import("./groups/sshkey")).group,
};

const USAGE_HEAD = `geartrain: an OpenShift-Origin-v2-style PaaS as Pulumi code

Usage: geartrain <group> <command> [options]

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

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
