// Loads the stack config once, before any resource is declared. The pure validation lives in
// ./validate.ts (no Pulumi import there, so it is unit-tested without an engine).
//
// Where the topology comes from (docs/configuration.md): a stack's `geartrain:platform` is the tracked
// file `platforms/<stack>.yaml` when it exists, otherwise the key in the stack's own Pulumi config (test
// sandboxes, ad-hoc stacks). The stack's Pulumi config file itself is per user (the passphrase salt and
// the user's secrets), outside the checkout, so the engine never rewrites a tracked file.
//
// Config keys (see docs/configuration.md):
//   geartrain:platform        structured object, validated against ./schema/platform.schema.json; only for
//                             stacks without a platforms/<stack>.yaml
//   geartrain:sshPrivateKey   SECRET: private key for every `ssh` host, read with `requireSecret` (an
//                             Output<string> marked secret end to end) only when a host connects by ssh.
//   geartrain:tlsCertificate  the certificate chain (PEM) when certificate.source is `provided`
//   geartrain:tlsPrivateKey   SECRET: its private key (PEM)
//   geartrain:tlsCaCertificate  optional root CA (PEM) the bus's clients trust (default: tlsCertificate)
//   geartrain:sshPublicKeys   optional list of public keys for the hosts' cloud-init user data
//   geartrain:dataDir         root of Geartrain's state on every host (default in Pulumi.yaml)
//   geartrain:configDir       Geartrain's configuration files on every host (default in Pulumi.yaml)
//   geartrain:ports           optional object over the topology's top-level `ports` (per user: a machine whose
//                             default ports are taken, e.g. by another dev stack), validated with it
//   geartrain:uidRanges       optional object, district name → {min, max}, over those districts' `uidRange`
//                             (per user: a machine where another platform's gears hold the UIDs)
//   geartrain:node            optional object: settings of every node host that are the machine's
//                             (idlePort, gecos, cgroupRootName, networkTable, limitsDir, maxActiveGears,
//                             factsIntervalSeconds; PlatformNodeSettings)
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import type { PlatformArgs, PlatformNodeSettings } from "../components/platform";
import {
  ConfigError,
  PLATFORM_CONFIG_KEY,
  validatePlatformConfig,
  type ConfigProblem,
  type PlatformConfig,
} from "./validate";

export * from "./validate";

/** Folder, relative to the project root, of the tracked topologies, one `<stack>.yaml` per stack. */
export const PLATFORMS_DIR = "platforms";

/** Stack names as the engine allows them; anything else never becomes part of a path. */
const STACK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Where the program looks for a stack's topology: project root, stack name, and the stack's config. */
export interface PlatformSource {
  readonly rootDirectory: string;
  readonly stack: string;
  readonly config: pulumi.Config;
}

/** The tracked topology file of `stack`, relative to the project root. */
export function platformFileOf(stack: string): string {
  if (!STACK_NAME.test(stack)) throw new pulumi.RunError(`unexpected stack name ${JSON.stringify(stack)}`);
  return `${PLATFORMS_DIR}/${stack}.yaml`;
}

/**
 * Reads the stack's topology (the tracked platforms/<stack>.yaml, or else `geartrain:platform` from the
 * stack config) and validates it. On a missing, doubly defined or invalid topology it throws a
 * `pulumi.RunError` whose message lists every problem (RunError: Pulumi prints it without a stack trace).
 */
export function loadPlatformConfig(source: PlatformSource = currentSource()): PlatformConfig {
  const file = platformFileOf(source.stack);
  const fromFile = readPlatformFile(path.join(source.rootDirectory, file), file);
  const fromConfig = source.config.getObject<unknown>("platform");
  if (fromFile !== undefined && fromConfig !== undefined) {
    throw new pulumi.RunError(
      `stack ${source.stack} has its topology in ${file}, and its stack config sets ${PLATFORM_CONFIG_KEY} too: ` +
        `remove the key with \`pulumi config rm ${PLATFORM_CONFIG_KEY}\``,
    );
  }
  if (fromFile === undefined && fromConfig === undefined) {
    throw new pulumi.RunError(
      `stack ${source.stack} has no topology: create ${file} (${PLATFORMS_DIR}/dev.yaml is an example), ` +
        `or set ${PLATFORM_CONFIG_KEY} in the stack config`,
    );
  }
  const where = fromFile !== undefined ? file : `the stack config of ${source.stack}`;
  const raw = withUidRangeOverrides(
    withPortOverrides(fromFile ?? fromConfig, source.config.getObject<unknown>("ports")),
    source.config.getObject<unknown>("uidRanges"),
  );
  try {
    const topology = validatePlatformConfig(raw);
    const missing = missingSources(source.rootDirectory, topology);
    if (missing.length > 0) throw new ConfigError(missing);
    return topology;
  } catch (err) {
    if (err instanceof ConfigError) throw new pulumi.RunError(`${err.message}\n(read from ${where})`);
    throw err;
  }
}

/**
 * Each app's `source` must be a directory of the checkout (the validation has already refused absolute
 * paths and `..`; a link out of the project root is refused here), so a typo fails before anything is made.
 */
function missingSources(root: string, topology: PlatformConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const realRoot = fs.realpathSync(root);
  topology.apps.forEach((app, i) => {
    if (app.source === undefined) return;
    const at = `${PLATFORM_CONFIG_KEY}.apps[${i}].source`;
    let real: string;
    try {
      real = fs.realpathSync(path.join(root, app.source));
    } catch {
      problems.push({
        path: at,
        message: `expected a directory of the project, but ${app.source} does not exist`,
      });
      return;
    }
    if (!fs.statSync(real).isDirectory())
      problems.push({
        path: at,
        message: `expected a directory of the project, but ${app.source} is no directory`,
      });
    else if (path.relative(realRoot, real).startsWith(".."))
      problems.push({
        path: at,
        message: `expected a directory inside the project, but ${app.source} leads out of it`,
      });
  });
  return problems;
}

/**
 * What the Platform takes besides the topology, from the stack's Pulumi config: the SSH key (only when a
 * host connects by ssh), the provided certificate (only when the topology says so), the directories.
 */
export function loadPlatformInputs(
  topology: PlatformConfig,
  config: pulumi.Config = new pulumi.Config("geartrain"),
): Omit<PlatformArgs, "topology"> {
  const ssh = topology.hosts.some((h) => h.connection.type === "ssh");
  const provided = topology.certificate.source === "provided";
  return {
    sshPrivateKey: ssh ? config.requireSecret("sshPrivateKey") : undefined,
    certificate: provided
      ? {
          certificate: config.require("tlsCertificate"),
          privateKey: config.requireSecret("tlsPrivateKey"),
          ...(config.get("tlsCaCertificate") !== undefined ? { ca: config.get("tlsCaCertificate") } : {}),
        }
      : undefined,
    dataDirectory: config.get("dataDir"),
    configDirectory: config.get("configDir"),
    sshAuthorizedKeys: config.getObject<string[]>("sshPublicKeys"),
    node: config.getObject<PlatformNodeSettings>("node"),
  };
}

/**
 * The topology with `geartrain:ports` laid over its top-level `ports` (the validation that follows checks
 * the result, naming `ports.<role>` for a bad value); anything but an object there is refused.
 */
function withPortOverrides(topology: unknown, ports: unknown): unknown {
  if (ports === undefined) return topology;
  if (ports === null || typeof ports !== "object" || Array.isArray(ports))
    throw new pulumi.RunError(
      `geartrain:ports must be an object of ports by role, e.g. {"broker": 18081}: got ${JSON.stringify(ports)}`,
    );
  if (topology === null || typeof topology !== "object" || Array.isArray(topology)) return topology;
  const t = topology as Record<string, unknown>;
  const own = t.ports && typeof t.ports === "object" ? (t.ports as Record<string, unknown>) : {};
  return { ...t, ports: { ...own, ...(ports as Record<string, unknown>) } };
}

/**
 * The topology with `geartrain:uidRanges` laid over its districts' `uidRange`, by district name (the
 * validation that follows checks each range, naming `districts[i].uidRange`); a name that is no district of
 * the topology, or anything but an object of objects, is refused naming `geartrain:uidRanges`.
 */
function withUidRangeOverrides(topology: unknown, ranges: unknown): unknown {
  if (ranges === undefined) return topology;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isObject(ranges) || !Object.values(ranges).every(isObject))
    throw new pulumi.RunError(
      `geartrain:uidRanges must be an object of UID ranges by district, e.g. {"dev-small": {"min": 20000, "max": 24999}}: got ${JSON.stringify(ranges)}`,
    );
  if (!isObject(topology) || !Array.isArray(topology.districts)) return topology;
  const districts = topology.districts as unknown[];
  const names = new Set(districts.filter(isObject).map((d) => d.name));
  const unknown = Object.keys(ranges).filter((name) => !names.has(name));
  if (unknown.length > 0)
    throw new pulumi.RunError(
      `geartrain:uidRanges.${unknown[0]}: no district of the topology has that name (districts: ${[...names].join(", ")})`,
    );
  return {
    ...topology,
    districts: districts.map((d) =>
      isObject(d) && typeof d.name === "string" && Object.hasOwn(ranges, d.name)
        ? { ...d, uidRange: ranges[d.name] }
        : d,
    ),
  };
}

/** The project root (where Pulumi.yaml is): the topology's files and the apps' `source` are relative to it. */
export function projectRoot(): string {
  return pulumi.runtime.getRootDirectory() || process.cwd();
}

function currentSource(): PlatformSource {
  return {
    rootDirectory: projectRoot(),
    stack: pulumi.getStack(),
    config: new pulumi.Config("geartrain"),
  };
}

/** The parsed file, or undefined when there is none. */
function readPlatformFile(file: string, shown: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return YAML.parse(text) ?? null;
  } catch (err) {
    throw new pulumi.RunError(`${shown} is not valid YAML: ${(err as Error).message}`);
  }
}
