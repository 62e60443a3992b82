// The Geartrain program: reads and validates the stack config before anything is declared, then
// declares the platform. At this stage: every host, its config directory, and the cloud-init user data
// that brings up a new node host. Later components (datastore, bus, DNS, brokers, nodes) hang here.
import * as pulumi from "@pulumi/pulumi";
import { loadPlatformConfig, type PlatformConfig } from "./config";
import { Host } from "../components/host";
import { UserData, renderCloudConfig } from "../components/cloudinit";
import { LocalDirectory } from "../providers/local-directory";

const platform: PlatformConfig = loadPlatformConfig();
const config = new pulumi.Config("geartrain");
const configDir = config.require("configDir");

function declareHost(spec: PlatformConfig["hosts"][number]) {
  const privateKey = spec.connection.type === "ssh" ? config.requireSecret("sshPrivateKey") : undefined;
  const host = new Host(spec.name, { connection: spec.connection, privateKey });
  if (spec.connection.type !== "local") return { host };
  const root = new LocalDirectory(
    `${spec.name}-config-dir`,
    { path: configDir, mode: "0755" },
    { parent: host },
  );
  const summary = host.file(
    "platform-summary",
    {
      path: `${configDir}/platform.json`,
      content: JSON.stringify({ domain: platform.domain, roles: [...spec.roles].sort() }, null, 2) + "\n",
      mode: "0644",
    },
    { dependsOn: [root] },
  );
  return { host, root, summary };
}

const hosts = platform.hosts.map(declareHost);

/** User data for a new node host: the packages and directories every node needs before Geartrain runs. */
const nodeUserData = new UserData("node-userdata", {
  parts: [
    {
      contentType: "text/cloud-config",
      filename: "geartrain-node.yaml",
      content: renderCloudConfig({
        package_update: true,
        packages: ["nginx", "openssh-server", "quota"],
        runcmd: [["install", "-d", "-m", "0755", configDir]],
      }),
    },
  ],
});

export const domain = platform.domain;
export const hostFacts = Object.fromEntries(hosts.map(({ host }, i) => [platform.hosts[i].name, host.facts]));
export const configDirPath = hosts.find((h) => h.root)?.root?.path;
export const nodeCloudInit = nodeUserData.rendered;
