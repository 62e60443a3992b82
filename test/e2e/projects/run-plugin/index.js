// Two commands for the policy pack to judge (nothing runs them in a preview) and a resource of the
// Node.js provider plugin in ./provider. Plain JavaScript: the policy pack and provider are too.
const pulumi = require("@pulumi/pulumi");
const command = require("@pulumi/command");

// Only echoes when run, but contains the pack's default forbidden words.
new command.local.Command("wipe", { create: "echo pretend: rm -rf scratch", delete: "true" });
// No `delete`: the pack's advisory policy warns.
new command.local.Command("greet", { create: "echo hello" });

const greeting = new pulumi.CustomResource("gtgreet:index:Greeting", "greeting", {
  name: "geartrain",
  message: undefined,
});
exports.message = greeting.message;
