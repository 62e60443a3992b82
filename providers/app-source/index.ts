// AppSource: the code of an application, pushed from a directory of the checkout to the application's git
// repository as `git push` would (docs/providers.md "AppSource"). Pushed on create and again whenever the
// directory's content hash changes; the push key is made for that push only and removed after it, and the
// node's gear git sshd must present the pinned host key. Same shape as BrokerApp: the serialized provider
// only loads the compiled operations module by path, and the connection is a secret input.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { operationsModule } from "../application";
import type { BrokerConnection } from "../application/model";
import type { AppSourceInputs, AppSourceOutputs, GitSshHost } from "./model";

export type { AppSourceInputs, AppSourceOutputs, GitSshHost } from "./model";
export { hashSourceDirectory, readSourceTree } from "./source-tree";

const OPERATIONS = operationsModule(__dirname);

type Ops = typeof import("./operations");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ops = (): Ops => require(OPERATIONS) as Ops;

export const appSourceProvider: pulumi.dynamic.ResourceProvider<AppSourceInputs, AppSourceOutputs> = {
  check: (olds, news) => ops().check(olds, news),
  diff: (id, olds, news) => ops().diff(id, olds as AppSourceOutputs, news),
  create: (inputs) => ops().create(inputs),
  read: (id, props) => ops().read(id, props as AppSourceOutputs),
  update: (id, olds, news) => ops().update(id, olds as AppSourceOutputs, news),
  delete: () => ops().remove(),
};

export interface AppSourceArgs {
  /**
   * The broker and the credentials of the application's owner: the one-push SSH key is registered for that
   * user (and removed after the push). Made secret here.
   */
  readonly connection: pulumi.Input<BrokerConnection>;
  /** The application's git URL, its `gitUrl` output (`ssh://<gear>@<node>:<port>/~/git/<app>.git/`). */
  readonly gitUrl: pulumi.Input<string>;
  /**
   * The node's gear git sshd: where to connect (`address`, which may differ from the URL's host name), its
   * `port` (the URL's) and its public `hostKey`, the only key accepted (the Platform's `nodes[].gitSsh`).
   */
  readonly sshHost: pulumi.Input<GitSshHost>;
  /** Absolute path of the directory whose files are pushed (without `.git` and `node_modules`). */
  readonly directory: pulumi.Input<string>;
  /**
   * The directory's content hash (`hashSourceDirectory(directory)`, when the program runs): a new value
   * pushes again; nothing else does.
   */
  readonly sourceHash: pulumi.Input<string>;
}

/** An application's code from a directory of the checkout. */
export class AppSource extends pulumi.dynamic.Resource {
  /** The commit the application's repository has for this source. */
  declare public readonly commit: pulumi.Output<string>;
  declare public readonly sourceHash: pulumi.Output<string>;

  constructor(name: string, args: AppSourceArgs, opts?: pulumi.CustomResourceOptions) {
    if (!fs.existsSync(OPERATIONS))
      throw new pulumi.ResourceError(`${OPERATIONS} is missing: run \`npm run build\` first.`, undefined);
    super(
      appSourceProvider,
      name,
      { ...args, connection: pulumi.secret(args.connection), providerVersion: undefined, commit: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "geartrain",
      "AppSource",
    );
  }
}
