// Stand-ins for the platform's District and the Application component, with the type tokens and inputs the
// policy pack reads (policies/README.md): each passes its args to the engine as the component's inputs. Their
// children are local commands that only run `true`, so `up` changes nothing on the machine.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

interface DistrictArgs {
  readonly name: string;
  readonly profile: string;
  readonly nodes: readonly string[];
}

class District extends pulumi.ComponentResource {
  constructor(name: string, args: DistrictArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:District", name, args, opts);
    new command.local.Command(
      `${name}-nodes`,
      { create: "true", triggers: [...args.nodes] },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

interface ApplicationArgs {
  readonly domain: string;
  readonly name: string;
  readonly district: string;
  readonly profile: string;
  readonly cartridges: readonly string[];
  readonly env: Record<string, pulumi.Input<string>>;
}

class Application extends pulumi.ComponentResource {
  constructor(name: string, args: ApplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:application:Application", name, args, opts);
    new command.local.Command(
      `${name}-gear`,
      { create: "true", environment: args.env, triggers: [args.profile, args.district] },
      { parent: this, replaceOnChanges: ["triggers"] },
    );
    this.registerOutputs({});
  }
}

const config = new pulumi.Config();
// `dropDistrict: true` removes dev-small: the policy pack denies it while an application is placed there.
if (config.getBoolean("dropDistrict") !== true) {
  new District("dev-small", { name: "dev-small", profile: "small", nodes: ["node1"] });
}
new District("dev-large", { name: "dev-large", profile: "large", nodes: ["node2"] });
new Application("guestbook", {
  domain: "team",
  name: "guestbook",
  district: "dev-small",
  profile: config.get("profile") ?? "small",
  cartridges: ["nodejs", "postgresql"],
  env: { GREETING: config.get("greeting") ?? "hello", DB_PASSWORD: config.requireSecret("dbPassword") },
});
