// A minimal resource provider written in Node.js: the engine asks the language host to run it
// (RunPlugin) and talks to it over gRPC like to any provider binary.
const provider = require("@pulumi/pulumi/provider");

provider.main(
  {
    version: "0.1.0",
    async create(_urn, inputs) {
      return {
        id: `greeting-${inputs.name}`,
        outs: { ...inputs, message: `hello ${inputs.name} from a node provider` },
      };
    },
    async delete() {},
  },
  process.argv.slice(2),
);
