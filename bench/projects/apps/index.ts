// The stack of bench/apps-stack.ts, written as a team writes one (docs/providers.md "Declaring an
// application"): `count` Applications with the static web cartridge in the broker's domain `domain`, the
// connection from config (the token a secret). With `kind: trivial` instead, `count` dynamic resources whose
// provider does nothing: the engine's own floor for the same number of dynamic resources.
import * as pulumi from "@pulumi/pulumi";
import { Application } from "../../../components/application";

const config = new pulumi.Config();
const count = config.requireNumber("count");

/** Keeps its inputs as its outputs; read returns what the state has. */
const nothing: pulumi.dynamic.ResourceProvider = {
  check: async (_olds, news) => ({ inputs: news }),
  diff: async () => ({ changes: false }),
  create: async (inputs) => ({ id: String(inputs.name), outs: inputs }),
  read: async (id, props) => ({ id, props }),
  update: async (_id, _olds, news) => ({ outs: news }),
  delete: async () => undefined,
};

class Nothing extends pulumi.dynamic.Resource {
  constructor(name: string) {
    super(nothing, name, { name }, {}, "bench", "Nothing");
  }
}

if (config.require("kind") === "apps") {
  const connection = pulumi
    .all([config.require("server"), config.requireSecret("token")])
    .apply(([server, token]) => ({ server, token }));
  const domain = config.require("domain");
  for (let i = 0; i < count; i++)
    new Application(`p${i}`, { connection, domain, webCartridge: "static-1.0" });
} else {
  for (let i = 0; i < count; i++) new Nothing(`n${i}`);
}
