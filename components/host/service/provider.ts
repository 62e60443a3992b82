// The dynamic resource under every Service: it writes the definition, starts the daemon and waits for it,
// and its `diff` asks the host whether the daemon still runs as declared. So a daemon that died (or whose
// supervisor died, or whose files were edited) shows as an update in `preview` and is started again by the
// next `up`, while a daemon that runs as declared shows no change. Commands cannot do this: they have no
// read (pulumi-command#432), and an invoke's answer recorded in the state would itself show as a change.
import * as pulumi from "@pulumi/pulumi";
import { serviceDrift, ServiceSpec, validateEnvironmentValues } from "./model";
import {
  applyService,
  fileHashes,
  removeService,
  ServiceConnection,
  serviceFiles,
  statusOf,
} from "./operations";

/** Bumped when what the provider does changes, so stacks see it as an update (pulumi/docs#17014). */
export const SERVICE_PROVIDER_VERSION = 1;

export interface ServiceDaemonInputs {
  /** The Host's name, for messages. */
  readonly host: string;
  readonly connection: ServiceConnection;
  readonly spec: ServiceSpec;
  /** Values may be secrets (the whole output is stored secret). */
  readonly environment: Record<string, string>;
  readonly providerVersion: number;
}

export type ServiceDaemonOutputs = ServiceDaemonInputs;

/** JSON with sorted keys: equal values give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function inputsOf(props: ServiceDaemonInputs): ServiceDaemonInputs {
  return {
    host: props.host,
    connection: props.connection,
    spec: props.spec,
    environment: props.environment ?? {},
    providerVersion: props.providerVersion,
  };
}

/** Properties whose change makes it another daemon: the old one is removed first (same name on the host). */
export function replacedProperties(olds: ServiceDaemonInputs, news: ServiceDaemonInputs): string[] {
  const identity = (p: ServiceDaemonInputs) =>
    canonicalJson([p.spec?.name, p.spec?.backend, p.spec?.serviceDirectory]);
  const replaces: string[] = [];
  if (olds.host !== news.host) replaces.push("host");
  if (identity(olds) !== identity(news)) replaces.push("spec");
  return replaces;
}

/** Why the daemon must be acted on although its inputs did not change ([] when it runs as declared). */
async function driftOf(props: ServiceDaemonInputs): Promise<string[]> {
  const files = serviceFiles(props.spec, props.environment ?? {});
  const status = await statusOf(props.connection, props.host, props.spec, files);
  return serviceDrift(status, fileHashes(files));
}

export const serviceDaemonProvider: pulumi.dynamic.ResourceProvider<
  ServiceDaemonInputs,
  ServiceDaemonOutputs
> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const env = news.environment ?? {};
    // unknown values (preview) are checked when they are known, at create/update
    const known = Object.fromEntries(
      Object.entries(env).filter(([, v]) => typeof v === "string" && v !== pulumi.runtime.unknownValue),
    );
    try {
      validateEnvironmentValues(known);
    } catch (err) {
      const field = (err as { field?: string }).field ?? "environment";
      failures.push({ property: field, reason: (err as Error).message });
    }
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const replaces = replacedProperties(olds, news);
    if (replaces.length > 0) return { changes: true, replaces, deleteBeforeReplace: true };
    if (canonicalJson(inputsOf(olds)) !== canonicalJson(inputsOf(news))) return { changes: true };
    const drift = await driftOf(inputsOf(olds));
    if (drift.length === 0) return { changes: false };
    try {
      pulumi.log.info(
        `service '${olds.spec.name}' on host '${olds.host}': ${drift.join("; ")}; up starts it`,
      );
    } catch {
      // no engine to log to: the update itself says enough
    }
    return { changes: true };
  },

  async create(inputs) {
    validateEnvironmentValues(inputs.environment ?? {});
    try {
      await applyService(inputs.connection, inputs.host, inputs.spec, inputs.environment ?? {});
    } catch (err) {
      // a failed create leaves nothing behind: the next `up` creates it again from scratch
      await removeService(inputs.connection, inputs.host, inputs.spec).catch(() => undefined);
      throw err;
    }
    return { id: `${inputs.host}/${inputs.spec.name}`, outs: inputsOf(inputs) };
  },

  async read(id, props) {
    if (!props?.spec) return { id, props };
    const files = serviceFiles(props.spec, props.environment ?? {});
    const status = await statusOf(props.connection, props.host, props.spec, files);
    if (status.state === "absent" && Object.keys(status.files).length === 0)
      return { id: "", props: {} as ServiceDaemonOutputs };
    return { id, props: inputsOf(props) };
  },

  async update(_id, _olds, news) {
    validateEnvironmentValues(news.environment ?? {});
    await applyService(news.connection, news.host, news.spec, news.environment ?? {});
    return { outs: inputsOf(news) };
  },

  async delete(_id, props) {
    if (!props?.spec) return;
    await removeService(props.connection, props.host, props.spec);
  },
};

export interface ServiceDaemonArgs {
  readonly host: pulumi.Input<string>;
  readonly connection: pulumi.Input<ServiceConnection>;
  readonly spec: pulumi.Input<ServiceSpec>;
  readonly environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** One daemon on one host; use it through Service (index.ts), which validates and resolves its spec. */
export class ServiceDaemon extends pulumi.dynamic.Resource {
  public readonly host!: pulumi.Output<string>;
  public readonly spec!: pulumi.Output<ServiceSpec>;

  constructor(name: string, args: ServiceDaemonArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serviceDaemonProvider,
      name,
      { ...args, providerVersion: SERVICE_PROVIDER_VERSION },
      { ...opts, additionalSecretOutputs: ["connection", "environment"] },
      "geartrain",
      "ServiceDaemon",
    );
  }
}
