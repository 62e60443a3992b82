// BrokerApp: one application of the broker (its gear, web cartridge and embedded cartridges, variables and
// run state) as a Pulumi resource, made, read, repaired and deleted through the broker's REST API with the
// typed client the CLI uses (docs/providers.md). Its `read` reports what the nodes really have (the gear's
// drift from its spec, each cartridge's status, the route), so `refresh` and `preview --refresh` show drift
// and `up` repairs it. Components use it through components/application (Application).
//
// The provider object is serialized into the state of every resource: its methods only `require` the
// compiled operations module by absolute path and call it (docs/performance.md "Dynamic resources in the
// state"), so `__provider` stays small and carries no credential: the broker's URL and token are the
// `connection` input, a secret.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { BrokerAppInputs, BrokerAppOutputs, BrokerConnection } from "./model";

export type { BrokerAppInputs, BrokerAppOutputs, BrokerConnection, Observed } from "./model";

/**
 * The compiled operations module beside this one: dist/providers/application/operations.js, whether this
 * program runs from the sources (ts-node) or from dist/. The dynamic provider runs plain Node.js: it loads
 * compiled JavaScript only.
 */
export function operationsModule(dir: string = __dirname, ext: string = path.extname(__filename)): string {
  if (ext === ".js") return path.join(dir, "operations.js");
  const root = path.resolve(dir, "../..");
  return path.join(root, "dist", path.relative(root, dir), "operations.js");
}

const OPERATIONS = operationsModule();

type Ops = typeof import("./operations");

// In the provider process: loaded by path when called, not imported (an import would be serialized by value).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ops = (): Ops => require(OPERATIONS) as Ops;

/** Serialized into each resource's state: the module path (a string), `ops` and these six one-line methods. */
export const brokerAppProvider: pulumi.dynamic.ResourceProvider<BrokerAppInputs, BrokerAppOutputs> = {
  check: (olds, news) => ops().check(olds, news),
  diff: (id, olds, news) => ops().diff(id, olds, news),
  create: (inputs) => ops().create(inputs),
  // the refreshed inputs are the input part of the properties (ReadResult types them as outputs)
  read: (id, props) =>
    ops().read(id, props as BrokerAppOutputs) as Promise<pulumi.dynamic.ReadResult<BrokerAppOutputs>>,
  update: (id, olds, news) => ops().update(id, olds, news),
  delete: (id, props) => ops().remove(id, props),
};

export interface BrokerAppArgs {
  /** The broker and the credentials of the application's owner (made secret here). */
  readonly connection: pulumi.Input<BrokerConnection>;
  /** The domain (namespace) the application lives in; it must exist. A change replaces the application. */
  readonly domain: pulumi.Input<string>;
  /** The application's name, letters and digits; with the domain it makes the host name. Replaces on change. */
  readonly name: pulumi.Input<string>;
  /** The web cartridge, `<name>-<version>` as the broker's catalogue lists it (`nodejs-20`). Replaces on change. */
  readonly webCartridge: pulumi.Input<string>;
  /** Embedded cartridges (`postgresql-15`), added or removed in place. @default [] */
  readonly cartridges?: pulumi.Input<pulumi.Input<string>[]>;
  /** The gear profile (size); its district must offer it. Replaces on change. @default "small" */
  readonly gearProfile?: pulumi.Input<string>;
  /** The application's environment variables (values may be secrets: the property is stored secret). @default {} */
  readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Whether the cartridges run. @default true */
  readonly started?: pulumi.Input<boolean>;
}

/** An application of the broker, reconciled with what its nodes report. */
export class BrokerApp extends pulumi.dynamic.Resource {
  declare public readonly appId: pulumi.Output<string>;
  declare public readonly fqdn: pulumi.Output<string>;
  declare public readonly appUrl: pulumi.Output<string>;
  declare public readonly gitUrl: pulumi.Output<string>;
  declare public readonly node: pulumi.Output<string | null>;
  declare public readonly uid: pulumi.Output<number | null>;
  declare public readonly mcsLabel: pulumi.Output<string | null>;
  declare public readonly cgroup: pulumi.Output<Record<string, string | null>>;
  declare public readonly observed: pulumi.Output<BrokerAppOutputs["observed"]>;

  constructor(name: string, args: BrokerAppArgs, opts?: pulumi.CustomResourceOptions) {
    if (!fs.existsSync(OPERATIONS))
      throw new pulumi.ResourceError(
        `${OPERATIONS} is missing: the BrokerApp provider runs the compiled sources. Run \`npm run build\` first.`,
        undefined,
      );
    super(
      brokerAppProvider,
      name,
      {
        ...args,
        connection: pulumi.secret(args.connection),
        env: pulumi.secret(args.env ?? {}),
        observed: undefined,
        providerVersion: undefined,
        appId: undefined,
        fqdn: undefined,
        appUrl: undefined,
        gitUrl: undefined,
        node: undefined,
        uid: undefined,
        mcsLabel: undefined,
        cgroup: undefined,
      },
      { ...opts, additionalSecretOutputs: ["connection", "env"] },
      "geartrain",
      "BrokerApp",
    );
  }
}
