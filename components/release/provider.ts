// The dynamic resource under every InstalledRelease: it uploads the release archive to its host (SFTP, the
// Host's pinned SSH connection) and unpacks it there (host-script.ts), and its `diff` asks the host whether
// the release is still installed and current. So an `up` with the same release and the release in place
// changes nothing and uploads nothing; a release removed on the host shows as an update and is installed again.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { HostTransport, runOn, uploadTo } from "../host/transport";
import { RELEASE_SCRIPT } from "./host-script";

/** Bumped when what the provider does changes, so stacks see it as an update. */
export const RELEASE_PROVIDER_VERSION = 1;

export interface ReleaseInstallInputs {
  /** The Host's name, for messages. */
  readonly host: string;
  readonly connection: HostTransport;
  readonly directory: string;
  readonly key: string;
  /** The archive on this machine (the program built it: components/release/bundle.ts). */
  readonly archive: string;
  /** `uname -m` the bundled Node.js runs on. */
  readonly machine: string;
  readonly keep: number;
  readonly providerVersion: number;
}

export interface ReleaseInstallOutputs extends ReleaseInstallInputs {
  /** The releases this resource installed that are still on the host (what delete removes). */
  readonly installed: string[];
  /** Every release on the host after the last install, newest first. */
  readonly releases: string[];
}

/** What the host script reports. */
export interface ReleaseHostState {
  readonly machine: string;
  readonly current: string;
  readonly releases: string[];
}

async function action(
  p: Pick<ReleaseInstallInputs, "connection" | "host" | "directory">,
  args: string[],
): Promise<ReleaseHostState> {
  const r = await runOn(p.connection, [
    "/bin/bash",
    "-c",
    RELEASE_SCRIPT,
    "geartrain-release",
    args[0],
    p.directory,
    ...args.slice(1),
  ]);
  if (r.code !== 0) {
    const detail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n");
    throw new Error(`release on host '${p.host}': ${args[0]} failed (exit ${r.code}): ${detail}`);
  }
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as ReleaseHostState;
}

/** The differences between what is on the host and what the inputs declare ([] when in place). */
export function releaseDrift(state: ReleaseHostState, key: string): string[] {
  const drift: string[] = [];
  if (!state.releases.includes(key)) drift.push(`release ${key} is not installed`);
  else if (state.current !== key) drift.push(`current points at ${state.current || "nothing"}, not ${key}`);
  return drift;
}

/** Installs `p.key` (uploading the archive only when the host lacks it); returns the host's releases. */
export async function installRelease(
  p: ReleaseInstallInputs,
): Promise<ReleaseHostState & { uploaded: boolean }> {
  const before = await action(p, ["status"]);
  if (before.machine !== p.machine) {
    throw new Error(
      `release on host '${p.host}': the host is ${before.machine}, the release's Node.js is for ${p.machine} ` +
        "(the bundle ships this machine's Node.js: run `pulumi up` from a machine of the hosts' architecture)",
    );
  }
  let upload = "-";
  if (!before.releases.includes(p.key)) {
    await action(p, ["prepare"]);
    upload = `${p.directory}/releases/.upload-${p.key}-${crypto.randomBytes(6).toString("hex")}.tar.gz`;
    await uploadTo(p.connection, p.archive, upload, 0o600);
  }
  const after = await action(p, ["install", p.key, upload, String(p.keep)]);
  return { ...after, uploaded: upload !== "-" };
}

function inputsOf(p: ReleaseInstallInputs): ReleaseInstallInputs {
  return {
    host: p.host,
    connection: p.connection,
    directory: p.directory,
    key: p.key,
    archive: p.archive,
    machine: p.machine,
    keep: p.keep,
    providerVersion: p.providerVersion,
  };
}

/** What makes it another install; the archive's path on this machine and the connection do not. */
function identity(p: ReleaseInstallInputs): string {
  return JSON.stringify([p.key, p.machine, p.keep, p.providerVersion]);
}

export const releaseInstallProvider: pulumi.dynamic.ResourceProvider<
  ReleaseInstallInputs,
  ReleaseInstallOutputs
> = {
  async diff(_id, olds, news) {
    const replaces: string[] = [];
    if (olds.host !== news.host) replaces.push("host");
    if (olds.directory !== news.directory) replaces.push("directory");
    if (replaces.length) return { changes: true, replaces };
    if (identity(olds) !== identity(news)) return { changes: true };
    const drift = releaseDrift(await action(olds, ["status"]), olds.key);
    if (!drift.length) return { changes: false };
    try {
      pulumi.log.info(`release on host '${olds.host}': ${drift.join("; ")}; up installs it`);
    } catch {
      // no engine to log to
    }
    return { changes: true };
  },

  async create(inputs) {
    const r = await installRelease(inputs);
    const outs = { ...inputsOf(inputs), installed: [inputs.key], releases: r.releases };
    return { id: `${inputs.host}:${inputs.directory}`, outs };
  },

  async update(_id, olds, news) {
    const r = await installRelease(news);
    const installed = [...new Set([news.key, ...(olds.installed ?? [])])].filter((k) =>
      r.releases.includes(k),
    );
    return { outs: { ...inputsOf(news), installed, releases: r.releases } };
  },

  async read(id, props) {
    if (!props?.key) return { id, props };
    const state = await action(props, ["status"]);
    const installed = (props.installed ?? [props.key]).filter((k) => state.releases.includes(k));
    if (!installed.length) return { id: "", props: {} as ReleaseInstallOutputs };
    return { id, props: { ...props, installed, releases: state.releases } };
  },

  async delete(_id, props) {
    if (!props?.key) return;
    await action(props, ["remove", ...new Set([props.key, ...(props.installed ?? [])])]);
  },
};

export interface ReleaseInstallArgs {
  readonly host: pulumi.Input<string>;
  readonly connection: pulumi.Input<HostTransport>;
  readonly directory: pulumi.Input<string>;
  readonly key: pulumi.Input<string>;
  readonly archive: pulumi.Input<string>;
  readonly machine: pulumi.Input<string>;
  readonly keep: pulumi.Input<number>;
}

/** One release on one host; use it through InstalledRelease (index.ts), which validates and builds the archive. */
export class ReleaseInstall extends pulumi.dynamic.Resource {
  /** The releases this resource installed that are still on the host. */
  declare public readonly installed: pulumi.Output<string[]>;
  /** Every release on the host after the last install, newest first. */
  declare public readonly releases: pulumi.Output<string[]>;

  constructor(name: string, args: ReleaseInstallArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      releaseInstallProvider,
      name,
      { ...args, providerVersion: RELEASE_PROVIDER_VERSION, installed: undefined, releases: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "geartrain",
      "ReleaseInstall",
    );
  }
}
