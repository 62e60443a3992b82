// The control plane on this machine: PostgreSQL, ActiveMQ and BIND, each in its own directory under
// `baseDir`, on loopback ports the test picked, supervised by the private runit under `serviceDirectory`;
// then the Broker on them (this checkout's programs, as the OS user `brokerUser`) and a District made
// through its admin API.
import * as pulumi from "@pulumi/pulumi";
import { Broker } from "../../../../components/broker";
import { Datastore } from "../../../../components/datastore";
import { District } from "../../../../components/district";
import { Dns } from "../../../../components/dns";
import { Host } from "../../../../components/host";
import { MessageBus } from "../../../../components/messagebus";
import { localRelease } from "../../../../components/release";

const config = new pulumi.Config();
const base = config.require("baseDir");
const release = localRelease();
const host = new Host("local", {
  connection: { type: "local" },
  serviceDirectory: config.require("serviceDirectory"),
});
const db = new Datastore("db", { host, directory: `${base}/db`, port: config.requireNumber("pgPort") });
const bus = new MessageBus("bus", {
  host,
  directory: `${base}/bus`,
  port: config.requireNumber("busPort"),
  nodes: ["n1"],
});
const dns = new Dns("dns", {
  host,
  directory: `${base}/dns`,
  port: config.requireNumber("dnsPort"),
  zone: "apps.e2e.test",
  hosts: [{ name: "broker.apps.e2e.test", address: "127.0.0.1" }],
});

const broker = new Broker(
  "broker",
  {
    host,
    release,
    port: config.requireNumber("brokerPort"),
    cloudDomain: "apps.e2e.test",
    directory: `${base}/broker`,
    osUser: config.require("brokerUser"),
    datastore: db,
    bus: {
      host: bus.address,
      port: bus.port,
      user: bus.users.broker.name,
      password: bus.users.broker.password,
    },
    dns,
  },
  { dependsOn: [db.ready, bus.service, dns.service] },
);

// nodes: a comma-separated list (the test adds n1 once it has sent facts as agent-n1)
const nodes = (config.get("districtNodes") ?? "").split(",").filter(Boolean);
const district = new District("district", {
  host,
  release,
  broker,
  districtName: "e2e",
  nodes,
  nodeWaitSeconds: 30,
});

export const database = {
  host: db.host,
  port: db.port,
  database: db.database,
  user: db.user,
  password: db.password,
};
export const messageBus = {
  endpoint: bus.endpoint,
  port: bus.port,
  broker: bus.users.broker,
  agent: bus.users["agent:n1"],
};
export const nameserver = {
  server: dns.server,
  port: dns.port,
  zone: dns.zone,
  keyName: dns.keyName,
  keyAlgorithm: dns.keyAlgorithm,
  keySecret: dns.keySecret,
};
export const brokerApi = {
  url: broker.url,
  adminLogin: broker.adminLogin,
  adminPassword: broker.adminPassword,
};
export const districtOut = { name: district.districtName, nodes: district.nodes };
