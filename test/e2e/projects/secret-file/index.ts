// A secret from stack config reaches a file on this machine through Host.file. The e2e test checks
// the file content, and that the secret appears in plain text nowhere in state or CLI output.
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../../../components/host";

const config = new pulumi.Config();
const host = new Host("local", { connection: { type: "local" } });
const file = host.file("secret", {
  path: config.require("path"),
  content: config.requireSecret("secret"),
  mode: "0600",
  secret: true,
});
host.command("echo-secret", {
  create: 'echo "the secret is $SECRET"',
  environment: { SECRET: config.requireSecret("secret") },
  secret: true,
});
export const written = file.id;
