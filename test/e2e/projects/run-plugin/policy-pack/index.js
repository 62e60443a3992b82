// A policy pack on @pulumi/policy 1.x. The test copies it to a temporary directory and installs its
// dependencies there. The mandatory policy's forbidden words come from policy config
// (`--policy-pack-config`); its message names the stack and a stack config value, which reach the
// pack only through the language host's policy proxy.
const pulumi = require("@pulumi/pulumi");
const { PolicyPack } = require("@pulumi/policy");

const COMMAND = "command:local:Command";

new PolicyPack("geartrain-e2e", {
  policies: [
    {
      name: "forbidden-commands",
      description: "Commands must not contain forbidden words.",
      enforcementLevel: "mandatory",
      configSchema: {
        properties: { forbidden: { type: "array", items: { type: "string" }, default: ["rm -rf"] } },
      },
      validateResource: (args, reportViolation) => {
        if (args.type !== COMMAND) return;
        const { forbidden } = args.getConfig();
        const create = String(args.props.create ?? "");
        for (const word of forbidden) {
          if (create.includes(word)) {
            const owner = new pulumi.Config().get("owner") ?? "nobody";
            reportViolation(`${args.name} runs "${word}" in stack ${pulumi.getStack()} owned by ${owner}`);
          }
        }
      },
    },
    {
      name: "command-needs-delete",
      description: "Commands should say how to undo themselves.",
      enforcementLevel: "advisory",
      validateResource: (args, reportViolation) => {
        if (args.type === COMMAND && !args.props.delete)
          reportViolation(`${args.name} has no delete command`);
      },
    },
  ],
});
