// mode "service": one Service on this machine (this machine has no systemd as PID 1: the private runit
// under `serviceDirectory`), a python3 http.server on 127.0.0.1:`port` serving `docroot`, with a secret in
// its environment. mode "ssh": the same on an SSH host. mode "unreachable": an SSH host nobody answers for,
// with a small wait budget.
import * as pulumi from "@pulumi/pulumi";
import { Host, Service } from "../../../../components/host";

const config = new pulumi.Config();
const mode = config.require("mode");

export const outputs: Record<string, pulumi.Output<unknown>> = {};

if (mode === "service") {
  const port = config.requireNumber("port");
  const host = new Host("local", {
    connection: { type: "local" },
    serviceDirectory: config.require("serviceDirectory"),
  });
  const web = new Service("local-web", {
    host,
    name: "e2e-web",
    command: ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", String(port)],
    user: "nobody",
    group: "nogroup",
    workingDirectory: config.require("docroot"),
    environment: { GT_E2E_TOKEN: config.requireSecret("token"), PYTHONUNBUFFERED: "1" },
    readiness: { tcp: { address: "127.0.0.1", port }, attempts: 30, intervalSeconds: 0.5 },
    stopSignal: "INT",
    stopTimeoutSeconds: 5,
  });
  outputs.backend = web.backend;
  outputs.definitionPath = web.definitionPath;
} else if (mode === "ssh") {
  // the same daemon on an SSH host (a private sshd on 127.0.0.1 serving root): the provider dials it
  const port = config.requireNumber("port");
  const host = new Host("remote", {
    connection: {
      type: "ssh",
      address: "127.0.0.1",
      port: config.requireNumber("sshPort"),
      hostKey: config.require("hostKey"),
    },
    privateKey: config.requireSecret("privateKeyBase64").apply((k) => Buffer.from(k, "base64").toString()),
    serviceDirectory: config.require("serviceDirectory"),
  });
  const web = new Service("remote-web", {
    host,
    name: "e2e-ssh-web",
    command: ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", String(port)],
    workingDirectory: config.require("docroot"),
    environment: { GT_E2E_TOKEN: config.requireSecret("token") },
    readiness: { tcp: { address: "127.0.0.1", port }, attempts: 30, intervalSeconds: 0.5 },
  });
  outputs.backend = web.backend;
} else {
  const host = new Host("unreachable", {
    connection: {
      type: "ssh",
      address: "127.0.0.1",
      port: config.requireNumber("port"),
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv0rqFZnT9v0VtJm0YXkE1tJd7i8BDtN5eOqz9m0d7b",
      perDialTimeout: 2,
    },
    privateKey: config.requireSecret("privateKeyBase64").apply((k) => Buffer.from(k, "base64").toString()),
    sshWaitAttempts: 3,
    sshWaitTimeout: "2m",
  });
  new Service("unreachable-web", { host, name: "web", command: ["/bin/sleep", "1000"] });
  outputs.facts = host.facts;
}
