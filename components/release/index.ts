// Where the Geartrain programs (broker, agent, `geartrain node ...`) are on a host: the Broker and NodeHost
// components run their services from a GeartrainRelease. On the machine running `pulumi up` (the dev stack)
// that is this checkout, whose dist/ the setup builds; SSH hosts get an installed copy (the release bundle).
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";

/** The Geartrain programs installed on one host. */
export interface GeartrainRelease {
  /** Absolute path of the Node.js 20 binary on the host. @example "/usr/bin/node" */
  readonly node: string;
  /** Absolute path of the `geartrain` entry script on the host (bin/geartrain). */
  readonly entry: string;
  /** Identifies the installed code: a service whose release changes is restarted. */
  readonly version: pulumi.Input<string>;
  /** Resources that must exist before the programs can run (the install step), if any. */
  readonly dependsOn: readonly pulumi.Resource[];
}

/** The checkout this module is part of (source or dist/ build alike): the nearest package.json named geartrain. */
export function checkoutRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "geartrain") return dir;
    if (path.dirname(dir) === dir) throw new Error(`no geartrain checkout above ${from}`);
  }
}

/** The programs of this checkout, for services on the machine running the program (connection: local). */
export function localRelease(): GeartrainRelease {
  const root = checkoutRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  return {
    node: process.execPath,
    entry: path.join(root, "bin", "geartrain"),
    version: pkg.version,
    dependsOn: [],
  };
}
