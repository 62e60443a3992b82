// This checkout's programs installed on one SSH host (a namespace test host the test made) as an
// InstalledRelease, and a command that runs `geartrain --version` there with the release's own Node.js.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../../../components/host";
import { InstalledRelease } from "../../../../components/release";

const config = new pulumi.Config();
const host = new Host("th", {
  connection: {
    type: "ssh",
    address: config.require("address"),
    port: config.requireNumber("port"),
    hostKey: config.require("hostKey"),
  },
  privateKey: pulumi.secret(fs.readFileSync(config.require("privateKeyFile"), "utf8")),
  sshWaitAttempts: 10,
});
const release = new InstalledRelease("th-release", { host });
const version = host.command(
  "version",
  {
    create: '"$GT_NODE" "$GT_ENTRY" --version',
    environment: { GT_NODE: release.node, GT_ENTRY: release.entry },
  },
  { dependsOn: [...release.dependsOn] },
);

export const key = release.version;
export const node = release.node;
export const entry = release.entry;
export const versionLine = version.stdout;
export const installed = release.install.installed;
