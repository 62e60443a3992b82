// Application: a team's application on the platform, declared next to the platform it runs on. One BrokerApp
// (providers/application) under it, `${name}-app`: made, refreshed, repaired and deleted through the broker's
// REST API, its variables kept secret. docs/providers.md says how a team adds its own apps to a stack.
import * as pulumi from "@pulumi/pulumi";
import { BrokerApp, type BrokerConnection } from "../../providers/application";
import { attributeErrors } from "../resource-error";
import { resolveApplication } from "./resolve";

export type { BrokerConnection } from "../../providers/application";

export interface ApplicationArgs {
  /**
   * The broker (`server`: its URL) and the owner's credentials: a `token` from `geartrain login`, or `login`
   * and `password`. Stored as a secret; take it from secret config (`config.requireSecret`).
   */
  readonly connection: pulumi.Input<BrokerConnection>;
  /** The domain (namespace) the application belongs to; it must exist. A change replaces the application. */
  readonly domain: pulumi.Input<string>;
  /** The application's name: letters and digits, up to 32. A change replaces the application. @default the component's name */
  readonly name?: pulumi.Input<string>;
  /** The web cartridge, `<name>-<version>` as `geartrain cartridge list` shows it (`nodejs-20`). A change replaces the application. */
  readonly webCartridge: pulumi.Input<string>;
  /** Embedded cartridges (`postgresql-15`), added and removed in place. @default [] */
  readonly cartridges?: pulumi.Input<pulumi.Input<string>[]>;
  /** Environment variables of the application; a secret value stays secret (the whole map is). @default {} */
  readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Host names routed to the application besides its own. Not supported by the broker yet: must be empty. @default [] */
  readonly aliases?: readonly string[];
  /** The gear profile (size): small, medium or large. A change replaces the application. @default "small" */
  readonly gearProfile?: pulumi.Input<string>;
  /** Whether its cartridges run. @default true */
  readonly started?: pulumi.Input<boolean>;
}

export class Application extends pulumi.ComponentResource {
  /** Where to `git push` the application's code: `ssh://<gear>@<node>/~/git/<name>.git/`. */
  public readonly gitUrl: pulumi.Output<string>;
  /** The application's URL: `http://<name>-<domain>.<cloud domain>/`. */
  public readonly appUrl: pulumi.Output<string>;
  /** Its host name, `<name>-<domain>.<cloud domain>`. */
  public readonly fqdn: pulumi.Output<string>;
  /** The application's id at the broker (also its head gear's uuid). */
  public readonly appId: pulumi.Output<string>;
  /** The resource under it. */
  public readonly app: BrokerApp;

  constructor(name: string, args: ApplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:apps:Application", name, {}, opts);
    const appName = args.name ?? name;
    attributeErrors(this, () => resolveApplication({ ...args, name: appName }));
    this.app = new BrokerApp(
      `${name}-app`,
      {
        connection: args.connection,
        domain: args.domain,
        name: appName,
        webCartridge: args.webCartridge,
        cartridges: args.cartridges ?? [],
        gearProfile: args.gearProfile ?? "small",
        env: args.env ?? {},
        started: args.started ?? true,
      },
      { parent: this },
    );
    this.gitUrl = this.app.gitUrl;
    this.appUrl = this.app.appUrl;
    this.fqdn = this.app.fqdn;
    this.appId = this.app.appId;
    this.registerOutputs({ gitUrl: this.gitUrl, appUrl: this.appUrl, fqdn: this.fqdn, appId: this.appId });
  }
}
