// The policy pack's rules over fabricated resource inputs and stack config, and the pack's policies
// (policies/policies.ts) driven as the engine drives them: each resource validated, then the stack.
import { readFileSync } from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
  packPolicies,
  type PackEnvironment,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "../../../policies/policies";
import {
  DEFAULT_MIN_BROKERS,
  DEFAULT_STRICT_STACKS,
  districtWithGears,
  gearProfileInDistrict,
  isStrictStack,
  nodeInOneDistrict,
  noPlainSecrets,
  secretLooking,
  stagProdTopology,
  type RuleInput,
  type RuleResource,
} from "../../../policies/rules";

const urn = (type: string, name: string) => `urn:pulumi:dev::geartrain::${type}::${name}`;
const res = (type: string, name: string, props: Record<string, unknown>): RuleResource => ({
  type,
  name,
  urn: urn(type, name),
  props,
});
const district = (name: string, profile: string, nodes: string[]) =>
  res("geartrain:platform:District", name, { name, profile, nodes });
const app = (name: string, district: string, profile: string) =>
  res("geartrain:application:Application", name, { domain: "team", name, district, profile });

function input(over: Partial<RuleInput>): RuleInput {
  return {
    stack: "dev",
    resources: [],
    config: {},
    secretKeys: [],
    strictStacks: DEFAULT_STRICT_STACKS,
    minBrokers: DEFAULT_MIN_BROKERS,
    ...over,
  };
}

const TOPOLOGY = {
  domain: "apps.stage.test",
  hosts: [
    { name: "b1", connection: { type: "local" }, roles: ["broker", "node"] },
    { name: "n2", connection: { type: "local" }, roles: ["node"] },
  ],
  bus: { tls: true },
  districts: [{ name: "small", profile: "small", uidRange: { min: 1000, max: 6999 }, nodes: ["b1"] }],
};

describe("gear-profile-in-district", () => {
  it("denies a profile the district does not allow, naming the app, profile and district", () => {
    const v = gearProfileInDistrict(
      input({ resources: [district("small", "small", ["n1"]), app("guestbook", "small", "large")] }),
    );
    expect(v).toEqual([
      {
        rule: "gear-profile-in-district",
        urn: urn("geartrain:application:Application", "guestbook"),
        message: expect.stringMatching(/Application guestbook asks for gear profile "large".*district small/),
      },
    ]);
  });

  it("allows the district's profile, a list of profiles, and reads districts from the stack config", () => {
    const multi = res("geartrain:platform:District", "mixed", { profiles: ["small", "medium"], nodes: [] });
    expect(gearProfileInDistrict(input({ resources: [multi, app("a", "mixed", "medium")] }))).toEqual([]);
    const config = { "geartrain:platform": JSON.stringify(TOPOLOGY) };
    expect(gearProfileInDistrict(input({ config, resources: [app("a", "small", "small")] }))).toEqual([]);
    expect(gearProfileInDistrict(input({ config, resources: [app("a", "small", "medium")] }))).toHaveLength(
      1,
    );
  });

  it("judges gears of a dynamic provider type too", () => {
    const gear = res("pulumi-nodejs:gear:Gear", "g1", { district: "small", gearProfile: "large" });
    expect(gearProfileInDistrict(input({ resources: [district("small", "small", []), gear] }))).toHaveLength(
      1,
    );
  });
});

describe("stage-prod-topology", () => {
  const bus = (tls?: object) => res("geartrain:platform:MessageBus", "bus", tls ? { tls } : {});
  const broker = (n: string) => res("geartrain:platform:Broker", n, {});

  it("knows stage and prod stacks by name", () => {
    for (const s of ["stage", "prod", "production", "prod-eu", "team-staging", "stage.2"])
      expect(isStrictStack(s, DEFAULT_STRICT_STACKS)).toBe(true);
    for (const s of ["dev", "prodigy", "backstage", "review-1"])
      expect(isStrictStack(s, DEFAULT_STRICT_STACKS)).toBe(false);
  });

  it("needs two brokers and TLS on the bus in stage/prod, not in dev", () => {
    const one = [broker("b1"), bus()];
    const v = stagProdTopology(input({ stack: "prod", resources: one }));
    expect(v.map((x) => x.message)).toEqual([
      expect.stringContaining("has 1 broker; it needs at least 2"),
      expect.stringContaining("MessageBus bus has no TLS"),
    ]);
    expect(v[1].urn).toBe(urn("geartrain:platform:MessageBus", "bus"));
    expect(stagProdTopology(input({ stack: "dev", resources: one }))).toEqual([]);
    const good = [broker("b1"), broker("b2"), bus({ keyStore: "/etc/k.jks", keyStorePassword: "[secret]" })];
    expect(stagProdTopology(input({ stack: "prod", resources: good }))).toEqual([]);
  });

  it("counts broker hosts of the stack config and takes the minimum from policy config", () => {
    const config = { "geartrain:platform": JSON.stringify(TOPOLOGY) };
    const withTls = [bus({ keyStore: "k" })];
    expect(stagProdTopology(input({ stack: "stage", config, resources: withTls }))).toHaveLength(1);
    expect(stagProdTopology(input({ stack: "stage", config, resources: withTls, minBrokers: 1 }))).toEqual(
      [],
    );
  });
});

describe("the tracked topologies (platforms/*.yaml) as stack config", () => {
  const configOf = (file: string) => ({
    "geartrain:platform": JSON.stringify(
      YAML.parse(readFileSync(path.join(__dirname, "../../../platforms", file), "utf8")),
    ),
  });

  it("stage and prod pass every rule; dev is no stage/prod stack", () => {
    for (const [stack, file] of [
      ["stage", "stage.yaml"],
      ["prod", "prod.yaml"],
      ["dev", "dev.yaml"],
    ]) {
      const i = input({ stack, config: configOf(file) });
      const found = [
        stagProdTopology(i),
        noPlainSecrets(i),
        nodeInOneDistrict(i),
        districtWithGears(i),
      ].flat();
      expect({ file, found }).toEqual({ file, found: [] });
    }
  });

  it("the dev topology as a prod stack lacks a second broker and TLS on the bus", () => {
    const v = stagProdTopology(input({ stack: "prod", config: configOf("dev.yaml") }));
    expect(v.map((x) => x.message)).toEqual([
      expect.stringContaining("has 1 broker; it needs at least 2"),
      expect.stringContaining("stack config geartrain:platform has no TLS on the bus"),
    ]);
  });

  it("reads a District component's districtName", () => {
    const d = res("geartrain:platform:District", "d1", {
      districtName: "small",
      profile: "small",
      nodes: [],
    });
    expect(gearProfileInDistrict(input({ resources: [d, app("a", "small", "large")] }))).toHaveLength(1);
  });
});

describe("no-plain-secrets", () => {
  it("flags plain config whose name or value looks secret, not secret config", () => {
    const config = {
      "app:dbPassword": "hunter2-but-longer",
      "app:apiToken": "[secret]",
      "app:sessionSecret": "x1y2z3",
      "app:greeting": "hello",
      "app:deployKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----",
      "app:ciToken": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    };
    const v = noPlainSecrets(input({ config, secretKeys: ["app:sessionSecret"] }));
    expect(v.map((x) => x.message.split(" is plain")[0])).toEqual([
      "stack config app:ciToken",
      "stack config app:dbPassword",
      "stack config app:deployKey",
    ]);
    expect(v[0].message).toContain("pulumi config set --secret");
  });

  it("looks inside structured config, and leaves public keys and ordinary words alone", () => {
    const topology = {
      ...TOPOLOGY,
      hosts: [
        { name: "h", connection: { type: "ssh", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9z" } },
      ],
    };
    expect(noPlainSecrets(input({ config: { "geartrain:platform": JSON.stringify(topology) } }))).toEqual([]);
    const leaky = { ...TOPOLOGY, bus: { password: "s3cr3t-pa55" } };
    expect(
      noPlainSecrets(input({ config: { "geartrain:platform": JSON.stringify(leaky) } }))[0].message,
    ).toContain("geartrain:platform.bus.password");
    expect(secretLooking("x", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A=")).toMatch(
      /generated key/,
    );
    expect(secretLooking("passwordLength", "32")).toBeUndefined();
    expect(secretLooking("domain", "apps.dev.geartrain.test")).toBeUndefined();
  });
});

describe("node-in-one-district", () => {
  it("denies a node in two districts, from resources and config alike", () => {
    const v = nodeInOneDistrict(
      input({ resources: [district("a", "small", ["n1", "n2"]), district("b", "large", ["n2"])] }),
    );
    expect(v).toEqual([
      {
        rule: "node-in-one-district",
        urn: urn("geartrain:platform:District", "a"),
        message: expect.stringContaining("node n2 is in 2 districts (a, b)"),
      },
    ]);
    const config = { "geartrain:platform": JSON.stringify(TOPOLOGY) };
    expect(
      nodeInOneDistrict(input({ config, resources: [district("other", "large", ["b1"])] })),
    ).toHaveLength(1);
    // the same district as a resource and in the config is one district
    expect(nodeInOneDistrict(input({ config, resources: [district("small", "small", ["b1"])] }))).toEqual([]);
  });
});

describe("district-with-gears", () => {
  it("denies an app whose district the stack no longer declares", () => {
    const v = districtWithGears(
      input({ resources: [district("large", "large", []), app("guestbook", "small", "small")] }),
    );
    expect(v[0]).toMatchObject({
      rule: "district-with-gears",
      urn: urn("geartrain:application:Application", "guestbook"),
    });
    expect(v[0].message).toContain("deleting a district that still has gears is denied");
    expect(
      districtWithGears(input({ resources: [district("small", "small", []), app("g", "small", "small")] })),
    ).toEqual([]);
  });

  it("leaves an apps-only stack (no districts, no topology) alone", () => {
    expect(districtWithGears(input({ resources: [app("g", "small", "small")] }))).toEqual([]);
  });
});

describe("the pack's policies, driven like the engine does", () => {
  function drive(
    resources: RuleResource[],
    env: PackEnvironment,
    outputs: (r: RuleResource) => object = () => ({}),
  ) {
    const policies = packPolicies(() => env);
    const collect = policies[0] as ResourceValidationPolicy;
    for (const r of resources) {
      const validate = collect.validateResource as (args: object, report: () => void) => void;
      validate({ ...r, opts: {}, getConfig: () => ({}), notApplicable: () => undefined }, () => undefined);
    }
    const found: string[] = [];
    for (const p of policies.slice(1) as StackValidationPolicy[]) {
      const stackResources = resources.map((r) => ({ ...r, props: outputs(r) }) as unknown as PolicyResource);
      try {
        void p.validateStack(
          {
            resources: stackResources,
            stackTags: new Map(),
            getConfig: <T>() => ({}) as T,
            notApplicable: (reason?: string) => {
              throw new Error(`not applicable: ${reason}`);
            },
          },
          (message, u) => found.push(`${p.name} ${u ?? "-"} ${message}`),
        );
      } catch (err) {
        found.push(`${p.name} ${(err as Error).message}`);
      }
    }
    return found;
  }

  it("judges the components' inputs recorded per resource, not their (empty) outputs", () => {
    const found = drive([district("small", "small", ["n1"]), app("guestbook", "small", "large")], {
      stack: "dev",
      config: {},
      secretKeys: [],
    });
    expect(found).toEqual([
      expect.stringMatching(/^gear-profile-in-district urn:.*::guestbook Application guestbook asks/),
    ]);
  });

  it("has one policy per rule, all mandatory but the collector", () => {
    const policies = packPolicies(() => ({ stack: "dev", config: {}, secretKeys: [] }));
    expect(policies.map((p) => p.name)).toEqual([
      "collect-inputs",
      "gear-profile-in-district",
      "stage-prod-topology",
      "no-plain-secrets",
      "node-in-one-district",
      "district-with-gears",
    ]);
    expect(policies[0].enforcementLevel).toBe("advisory");
  });

  it("does not judge plain secrets when the language host gave no secret keys", () => {
    const found = drive([], {
      stack: "dev",
      config: { "app:dbPassword": "hunter2-longer" },
      secretKeys: undefined,
    });
    expect(found).toEqual([
      expect.stringContaining("no-plain-secrets not applicable: the language host gave"),
    ]);
  });
});
