// Where the Geartrain programs (broker, agent, `geartrain node ...`) are on a host: the Broker and NodeHost
// components run their services from a GeartrainRelease. On the machine running `pulumi up` (the dev stack)
// that is this checkout, whose dist/ the setup builds (localRelease); SSH hosts get an installed copy, the
// release bundle (InstalledRelease). docs/platform.md "Release".
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { childName } from "../host/resolve";
import { attributeErrors } from "../resource-error";
import { UnavailableError } from "../../common/errors";
import { BuiltArchive, planBundle, releaseBundle, ReleaseBundle } from "./bundle";
import { ReleaseInstall } from "./provider";
import { releasePaths, resolveInstall, validateKey } from "./resolve";

export { cacheDir, ensureArchive, planBundle, releaseBundle } from "./bundle";
export type { BuiltArchive, BundlePlan, ReleaseBundle } from "./bundle";
export { DEFAULTS as RELEASE_DEFAULTS, releasePaths } from "./resolve";
export type { ReleasePaths } from "./resolve";

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

const localVersions = new Map<string, string>();

/**
 * The programs of this checkout, for services on the machine running the program (connection: local).
 * `version` is `<package version>+<release key>`: the key hashes dist/, the run-time assets, the production
 * packages and the Node.js runtime (resolve.ts bundleKey), so it changes when the built code does; reading
 * it costs one pass over dist/ (about 0.1 s), once per process.
 */
export function localRelease(): GeartrainRelease {
  const root = checkoutRoot();
  let version = localVersions.get(root);
  if (version === undefined) {
    try {
      const plan = planBundle(root);
      version = `${plan.packageVersion}+${plan.key}`;
    } catch (err) {
      // dist/ not built (a unit test under ts-jest): nothing could run from it, any version will do
      if (!(err instanceof UnavailableError)) throw err;
      const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
      version = `${pkg.version}+unbuilt`;
    }
    localVersions.set(root, version);
  }
  return {
    node: process.execPath,
    entry: path.join(root, "bin", "geartrain"),
    version,
    dependsOn: [],
  };
}

export interface InstalledReleaseArgs {
  /** The host to install on: an SSH host (a local Host works too, into `directory`). */
  readonly host: Host;
  /**
   * Where releases live on the host: `<directory>/releases/<key>` (each a whole bundle) and the symlink
   * `<directory>/current` (the last one installed). Absolute, at least two levels deep.
   * @default "/opt/geartrain"
   */
  readonly directory?: string;
  /**
   * Releases kept on the host, this one included: an install removes the older ones (the previous one stays
   * while the services restart onto the new one). 1..10.
   * @default 2
   */
  readonly keep?: number;
  /**
   * The bundle to install. Share one among the hosts of a stack (it is memoized per checkout anyway).
   * @default releaseBundle(checkoutRoot()): this checkout's dist/, assets and production node_modules with
   * this machine's Node.js (`process.execPath`), so the hosts must have this machine's architecture
   */
  readonly bundle?: ReleaseBundle;
}

/**
 * This checkout's programs installed on a host (`geartrain:platform:Release`): the bundle's archive is built
 * once per release key in the cache outside the checkout (~/.cache/geartrain/releases), uploaded over the
 * Host's SSH connection (SFTP) when the host lacks that release, and unpacked into
 * `<directory>/releases/<key>` (atomically: unpacked beside, then renamed). An `up` with the same code does
 * nothing on the host; destroy removes every release it installed. Use it as the GeartrainRelease of the
 * host's Broker and NodeHost.
 */
export class InstalledRelease extends pulumi.ComponentResource implements GeartrainRelease {
  /** `<directory>/releases/<key>/runtime/bin/node`: the bundled Node.js. */
  public readonly node: string;
  /** `<directory>/releases/<key>/bin/geartrain`. */
  public readonly entry: string;
  /** The release key (16 hex digits): changes whenever the bundled code, packages or Node.js change. */
  public readonly version: string;
  /** The install step: services must wait for it. */
  public readonly dependsOn: readonly pulumi.Resource[];
  /** `<directory>/releases/<key>`. */
  public readonly releaseDirectory: string;
  /** `<directory>/current`, pointing at the last release installed (e.g. for a node host's /usr/local/bin/node). */
  public readonly currentLink: string;
  /** The dynamic resource that uploads and unpacks the release. */
  public readonly install: ReleaseInstall;

  constructor(name: string, args: InstalledReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:Release", name, {}, opts);
    const { directory, keep } = attributeErrors(this, () => resolveInstall(args));
    const bundle = attributeErrors(this, () => args.bundle ?? releaseBundle(checkoutRoot()));
    const key = attributeErrors(this, () => validateKey(bundle.key));
    const paths = releasePaths(directory, key);
    this.node = paths.node;
    this.entry = paths.entry;
    this.version = key;
    this.releaseDirectory = paths.release;
    this.currentLink = paths.current;

    // the archive is built (when the cache lacks it) by `up` only: a preview needs the key alone, and the
    // mocked engine (no engine at all) builds nothing
    const build = !pulumi.runtime.isDryRun() && pulumi.runtime.hasEngine();
    const archive: pulumi.Input<string> = !build
      ? bundle.archivePath
      : pulumi.output(bundle.archive().then((a: BuiltArchive) => a.path));
    const access = args.host.serviceAccess();
    this.install = new ReleaseInstall(
      attributeErrors(this, () => childName(name, "install")),
      {
        host: args.host.hostName,
        connection: access.connection,
        directory,
        key,
        archive,
        machine: bundle.machine,
        keep,
      },
      { parent: this, dependsOn: access.ready },
    );
    this.dependsOn = [this.install];
    this.registerOutputs({
      node: this.node,
      entry: this.entry,
      version: this.version,
      releaseDirectory: this.releaseDirectory,
      installed: this.install.installed,
    });
  }
}
