// PlatformApps: the applications a stack declares on the platform it deploys (the topology's `apps[]`,
// docs/configuration.md). For each distinct domain a BrokerDomain, for each application an Application and,
// with a `source`, an AppSource that pushes that directory of the checkout to it. All of them go through the
// platform's first broker as its admin user (the Platform's secret `admin` output), and wait for the whole
// platform: the BrokerDomains depend on the Platform (so on its node hosts, agents and districts), the
// applications on their domain, each AppSource on its application. So `up` makes them last and `destroy`
// deletes them first, before the platform goes.
import * as pulumi from "@pulumi/pulumi";
import { AppSource, hashSourceDirectory } from "../../providers/app-source";
import type { BrokerConnection } from "../../providers/application";
import { BrokerDomain } from "../../providers/domain";
import { Application } from "../application";
import type { PlatformNodeOutput } from "../platform";
import { attributeErrors } from "../resource-error";
import { gitSshHostOf, planApps, type PlatformAppSpec } from "./resolve";

export type { PlatformAppSpec } from "./resolve";
export { gitSshHostOf, planApps } from "./resolve";

/** What PlatformApps needs of the platform (a Platform is one). */
export interface AppsPlatform extends pulumi.Resource {
  readonly brokerUrl: pulumi.Output<string>;
  readonly admin: pulumi.Output<{ login: string; password: string }>;
  readonly nodes: pulumi.Output<PlatformNodeOutput[]>;
}

export interface PlatformAppsArgs {
  /** The platform the applications run on; everything here waits for all of it. */
  readonly platform: AppsPlatform;
  /** The applications, as the topology's `apps[]` lists them. */
  readonly apps: readonly PlatformAppSpec[];
  /** Absolute directory the `source` paths are relative to (the project root). */
  readonly rootDirectory: string;
}

/** An application as the outputs show it. */
export interface PlatformAppOutput {
  readonly url: string;
  readonly gitUrl: string;
  /** The commit its repository has for its source (null without a source). */
  readonly commit: string | null;
}

export class PlatformApps extends pulumi.ComponentResource {
  /** Each application by its DNS label `<name>-<domain>`: URL, git URL, pushed commit. */
  public readonly apps: pulumi.Output<Record<string, PlatformAppOutput>>;
  public readonly domains: readonly BrokerDomain[];
  public readonly applications: readonly Application[];
  public readonly sources: readonly AppSource[];

  constructor(name: string, args: PlatformAppsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:apps:PlatformApps", name, {}, opts);
    const plan = attributeErrors(this, () => planApps(name, args.apps, args.rootDirectory));
    // the content hashes, read now: a missing or unpushable directory fails before anything is made
    const hashes = attributeErrors(this, () =>
      plan.apps.map((a) => (a.source ? hashSourceDirectory(a.source.directory, `${a.field}.source`) : null)),
    );
    const { platform } = args;
    const connection: pulumi.Output<BrokerConnection> = pulumi.secret(
      pulumi
        .all([platform.brokerUrl, platform.admin])
        .apply(([server, admin]) => ({ server, login: admin.login, password: admin.password })),
    );
    const domainOf = new Map(
      plan.domains.map((d) => [
        d.name,
        new BrokerDomain(d.resource, { connection, name: d.name }, { parent: this, dependsOn: [platform] }),
      ]),
    );
    this.domains = [...domainOf.values()];
    const sources: AppSource[] = [];
    const outputs: pulumi.Output<[string, PlatformAppOutput]>[] = [];
    this.applications = plan.apps.map((a, i) => {
      const app = new Application(
        a.resource,
        {
          connection,
          domain: domainOf.get(a.spec.domain)!.name,
          name: a.spec.name,
          webCartridge: a.spec.webCartridge,
          cartridges: [...(a.spec.cartridges ?? [])],
          gearProfile: a.spec.gearProfile ?? "small",
          env: { ...(a.spec.env ?? {}) },
        },
        { parent: this },
      );
      let commit: pulumi.Output<string | null> = pulumi.output(null);
      if (a.source) {
        const source = new AppSource(
          a.source.resource,
          {
            connection,
            gitUrl: app.gitUrl,
            sshHost: pulumi
              .all([app.gitUrl, platform.nodes])
              .apply(([url, nodes]) => gitSshHostOf(url, nodes)),
            directory: a.source.directory,
            sourceHash: hashes[i]!,
          },
          { parent: this, dependsOn: [app] },
        );
        sources.push(source);
        commit = source.commit;
      }
      outputs.push(
        pulumi
          .all([app.appUrl, app.gitUrl, commit])
          .apply(([url, gitUrl, c]): [string, PlatformAppOutput] => [a.key, { url, gitUrl, commit: c }]),
      );
      return app;
    });
    this.sources = sources;
    this.apps = pulumi.all(outputs).apply((entries) => Object.fromEntries(entries));
    this.registerOutputs({ apps: this.apps });
  }
}
