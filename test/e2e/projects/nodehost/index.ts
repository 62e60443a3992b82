// A NodeHost on this machine against a MessageBus of the same program: everything in directories under
// `baseDir` (its config directory too, so the machine's own /etc/geartrain is untouched), on loopback
// ports the test picked (HTTPS with the test's self-signed certificate, its key a secret), supervised by the private runit under `serviceDirectory`; the node's gear names
// (cgroups, netfilter table) and UIDs are the test's own.
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../../../components/host";
import { MessageBus } from "../../../../components/messagebus";
import { NodeHost } from "../../../../components/nodehost";
import { localRelease } from "../../../../components/release";

const config = new pulumi.Config();
const base = config.require("baseDir");
const host = new Host("local", {
  connection: { type: "local" },
  serviceDirectory: config.require("serviceDirectory"),
});
const bus = new MessageBus("bus", {
  host,
  directory: `${base}/bus`,
  port: config.requireNumber("busPort"),
  nodes: ["n1"],
});
const agent = bus.users["agent:n1"];
const node = new NodeHost("e2enode", {
  host,
  release: localRelease(),
  identity: "n1",
  district: "d1",
  profile: "small",
  uidRange: { firstUid: 65300, maxUid: 65399 },
  publicHostname: "n1.apps.e2e.test",
  cloudDomain: "apps.e2e.test",
  maxActiveGears: 42,
  bus: { host: bus.address, port: bus.port, user: agent.name, password: agent.password },
  gearBaseDir: `${base}/gears`,
  configDirectory: `${base}/etc`,
  directory: `${base}/node`,
  frontend: {
    listen: `127.0.0.1:${config.requireNumber("httpPort")}`,
    idleStarter: `127.0.0.1:${config.requireNumber("idlePort")}`,
    tls: {
      listen: `127.0.0.1:${config.requireNumber("httpsPort")}`,
      certificate: Buffer.from(config.require("tlsCertificate"), "base64").toString(),
      key: config.requireSecret("tlsKey").apply((k) => Buffer.from(k, "base64").toString()),
    },
  },
  gitSsh: { port: config.requireNumber("sshPort") },
  node: {
    limitsDir: `${base}/limits.d`,
    cgroupRootName: "gt-e2e-nodehost",
    networkTable: "gt_e2e_nodehost",
  },
  factsIntervalSeconds: 1,
});

export const nodeHost = {
  identity: node.identity,
  publicHostname: node.publicHostname,
  facts: node.facts,
  httpEndpoint: node.httpEndpoint,
  httpsEndpoint: node.httpsEndpoint,
  gitSshHost: node.gitSshHost,
  gitSshPort: node.gitSshPort,
  gitSshHostKey: node.gitSshHostKey,
  nodeConfigPath: node.nodeConfigPath,
  agentConfigPath: node.agentConfigPath,
};
export const messageBus = { port: bus.port, broker: bus.users.broker, agent };
