// A secret from stack config reaches a file on this machine through Host.file, and plain
// `local.Command`s (no logging or additionalSecretOutputs set) that print it. The e2e test checks the
// file content, and that the secret appears in plain text nowhere in state or CLI output.
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import { Host } from "../../../../components/host";

const config = new pulumi.Config();
const secret = config.requireSecret("secret");
const host = new Host("local", { connection: { type: "local" } });
const file = host.file("secret", {
  path: config.require("path"),
  content: secret,
  mode: "0600",
  secret: true,
});
host.command("echo-secret", {
  create: 'echo "the secret is $SECRET"',
  environment: { SECRET: secret },
  secret: true,
});
// As a user writes them: the provider must make what these print secret by itself.
const viaEnvironment = new local.Command("via-environment", {
  create: 'echo "environment gave $SECRET"; echo "stderr has $SECRET" >&2',
  environment: { SECRET: secret },
});
const viaStdin = new local.Command("via-stdin", { create: "cat", stdin: secret });
const viaScript = new local.Command("via-script", {
  create: pulumi.interpolate`echo "script has ${secret}"`,
});
export const written = file.id;
export const printed = {
  environment: viaEnvironment.stdout,
  environmentStderr: viaEnvironment.stderr,
  stdin: viaStdin.stdout,
  script: viaScript.stdout,
};
