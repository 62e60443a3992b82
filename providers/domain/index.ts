// BrokerDomain: a domain (namespace) of the broker as a Pulumi resource, for the applications declared in the
// same stack (docs/providers.md). Same shape as BrokerApp: the serialized provider only loads the compiled
// operations module by path, and the connection is a secret input.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { operationsModule } from "../application";
import type { BrokerConnection } from "../application/model";
import type { BrokerDomainInputs } from "./model";

const OPERATIONS = operationsModule(__dirname);

type Ops = typeof import("./operations");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ops = (): Ops => require(OPERATIONS) as Ops;

export const brokerDomainProvider: pulumi.dynamic.ResourceProvider<BrokerDomainInputs, BrokerDomainInputs> = {
  check: (olds, news) => ops().check(olds, news),
  diff: (id, olds, news) => ops().diff(id, olds, news),
  create: (inputs) => ops().create(inputs),
  read: (id, props) => ops().read(id, props as BrokerDomainInputs),
  update: (id, olds, news) => ops().update(id, olds, news),
  delete: (id, props) => ops().remove(id, props),
};

export interface BrokerDomainArgs {
  /** The broker and the credentials of the domain's owner (made secret here). */
  readonly connection: pulumi.Input<BrokerConnection>;
  /** The namespace: a lower-case letter, then letters and digits, up to 16. A change replaces the domain. */
  readonly name: pulumi.Input<string>;
}

/** A domain of the broker; delete it after its applications (they depend on it through `name`). */
export class BrokerDomain extends pulumi.dynamic.Resource {
  declare public readonly name: pulumi.Output<string>;

  constructor(name: string, args: BrokerDomainArgs, opts?: pulumi.CustomResourceOptions) {
    if (!fs.existsSync(OPERATIONS))
      throw new pulumi.ResourceError(`${OPERATIONS} is missing: run \`npm run build\` first.`, undefined);
    super(
      brokerDomainProvider,
      name,
      { connection: pulumi.secret(args.connection), name: args.name },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "geartrain",
      "BrokerDomain",
    );
  }
}
