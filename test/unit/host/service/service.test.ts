// The Service component under mocks: one ServiceDaemon child named after it, gated on the host, its
// backend from the host's facts, secrets kept secret, and bad arguments failing before anything exists.
import * as pulumi from "@pulumi/pulumi";
import { recordResources, valueOf } from "../../../helpers/pulumi-mocks";

const factsOf = (systemd: boolean) =>
  JSON.stringify({ kernel: "Linux 6.1", os: "debian 12", cgroup: "v2", selinux: "unavailable", systemd });
const resources = recordResources((r) =>
  r.name.endsWith("-facts") ? { stdout: factsOf(r.name.startsWith("sd")), stderr: "" } : {},
);

import type * as HostModule from "../../../../components/host";

describe("Service", () => {
  let host: typeof HostModule;
  beforeAll(async () => {
    host = await import("../../../../components/host");
  });
  beforeEach(() => resources.splice(0));

  const daemonOf = (name: string) => resources.find((r) => r.name === `${name}-daemon`)!;

  it("declares one daemon, gated on the host's facts, with runit where systemd is not PID 1", async () => {
    const local = new host.Host("plain", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const web = new host.Service("plain-web", {
      host: local,
      name: "web",
      command: ["/usr/bin/python3", "-m", "http.server", "8080"],
      environment: { TOKEN: pulumi.secret("t0ken"), MODE: "dev" },
      readiness: { tcp: { address: "127.0.0.1", port: 8080 } },
    });
    await valueOf(web.daemon.urn);
    expect(await valueOf(web.backend)).toBe("runit");
    expect(await valueOf(web.definitionPath)).toBe("/srv/gt/runit/sv/web");
    const daemon = daemonOf("plain-web");
    expect(daemon.type).toMatch(/ServiceDaemon$/);
    expect(daemon.dependencies).toContain(
      "urn:pulumi:unit::geartrain::geartrain:host:Host$command:local:Command::plain-facts",
    );
    expect(daemon.additionalSecretOutputs).toEqual(["connection", "environment"]);
    const spec = daemon.inputs.spec as Record<string, unknown>;
    expect(spec).toMatchObject({ name: "web", backend: "runit", environmentNames: ["MODE", "TOKEN"] });
    // the secret value is an input of the daemon only, and the environment holding it is secret
    expect(JSON.stringify(daemon.inputs.environment)).toContain("1b47061264138c4ac30d75fd1eb44270");
    expect(JSON.stringify(spec)).not.toContain("t0ken");
  });

  it("uses systemd where the facts say it is PID 1, and orders required services first", async () => {
    const sd = new host.Host("sdhost", { connection: { type: "local" } });
    const db = new host.Service("sdhost-db", { host: sd, name: "db", command: ["/usr/bin/postgres"] });
    const app = new host.Service("sdhost-app", {
      host: sd,
      name: "app",
      command: ["/usr/bin/node", "app.js"],
      requires: [db],
    });
    await Promise.all([valueOf(app.daemon.urn), valueOf(db.daemon.urn)]);
    expect(await valueOf(app.backend)).toBe("systemd");
    expect(await valueOf(app.definitionPath)).toBe("/etc/systemd/system/geartrain-app.service");
    const dbUrn = daemonOf("sdhost-db");
    expect(dbUrn).toBeDefined();
    expect(daemonOf("sdhost-app").dependencies).toContain(
      "urn:pulumi:unit::geartrain::geartrain:host:Service$pulumi-nodejs:dynamic/geartrain:ServiceDaemon::sdhost-db-daemon",
    );
    expect((daemonOf("sdhost-app").inputs.spec as { requires: string[] }).requires).toEqual(["db"]);
  });

  it("keeps an ssh host's connection (its private key) secret", async () => {
    const ssh = new host.Host("remote", {
      connection: { type: "ssh", address: "127.0.0.1", port: 2222, hostKey: "ssh-ed25519 AAAAC3" },
      privateKey: "PRIVATE-KEY-TEXT",
    });
    const web = new host.Service("remote-web", { host: ssh, name: "web", command: ["/bin/sleep", "1000"] });
    await valueOf(web.daemon.urn);
    const daemon = daemonOf("remote-web");
    expect(JSON.stringify(daemon.inputs.connection)).toContain("1b47061264138c4ac30d75fd1eb44270");
    expect(daemon.dependencies).toContain(
      "urn:pulumi:unit::geartrain::geartrain:host:Host$command:remote:Command::remote-wait-ssh",
    );
  });

  it("rejects bad arguments as ResourceErrors naming the field, before declaring anything", async () => {
    const local = new host.Host("bad", { connection: { type: "local" } });
    const other = new host.Host("other", { connection: { type: "local" } });
    const elsewhere = new host.Service("other-db", { host: other, name: "db", command: ["/bin/true"] });
    await valueOf(elsewhere.daemon.urn);
    const before = resources.length;
    const attempt = (args: Partial<HostModule.ServiceResourceArgs>) => () =>
      new host.Service("bad-svc", { host: local, name: "svc", command: ["/bin/true"], ...args });
    expect(attempt({ name: "Bad Name" })).toThrow(/^invalid name: service name 'Bad Name'/);
    expect(attempt({ command: ["sleep"] })).toThrow(/^invalid command\[0\]: /);
    expect(attempt({ requires: [elsewhere] })).toThrow(
      /^invalid requires\[0\]: service 'db' runs on host 'other'/,
    );
    try {
      attempt({ stopSignal: "STOP" as never })();
    } catch (err) {
      expect(pulumi.ResourceError.isInstance(err)).toBe(true);
    }
    expect(resources.slice(before).filter((r) => r.name.startsWith("bad-svc"))).toEqual([]);
  });

  it("gives the host a bounded wait for ssh", async () => {
    const ssh = new host.Host("budget", {
      connection: { type: "ssh", address: "127.0.0.1", hostKey: "ssh-ed25519 AAAAC3" },
      privateKey: "K",
      sshWaitAttempts: 3,
    });
    await valueOf(ssh.facts);
    const wait = resources.find((r) => r.name === "budget-wait-ssh")!;
    expect((wait.inputs.connection as { value: { dialErrorLimit: number } }).value.dialErrorLimit).toBe(3);
    expect(
      () =>
        new host.Host("budget2", {
          connection: { type: "ssh", address: "127.0.0.1", hostKey: "ssh-ed25519 AAAAC3" },
          privateKey: "K",
          sshWaitAttempts: 0,
        }),
    ).toThrow(/^invalid sshWaitAttempts: /);
  });
});
