// The Host component under mocks: which children it registers, how they are named and wired.
import * as pulumi from "@pulumi/pulumi";
import { recordResources, valueOf } from "../../helpers/pulumi-mocks";

const FACTS = '{"kernel":"Linux 6.1","os":"debian 12","cgroup":"v2","selinux":"enforcing","systemd":true}';
const resources = recordResources((r) => (r.name.endsWith("-facts") ? { stdout: FACTS, stderr: "" } : {}));

import type * as HostModule from "../../../components/host";

describe("Host", () => {
  let host: typeof HostModule;
  beforeAll(async () => {
    host = await import("../../../components/host");
  });
  beforeEach(() => resources.splice(0));

  it("runs a local host's commands with bash and reads its facts", async () => {
    const local = new host.Host("local", { connection: { type: "local" } });
    expect(await valueOf(local.facts)).toEqual(JSON.parse(FACTS));
    const facts = resources.find((r) => r.name === "local-facts")!;
    expect(facts.type).toBe("command:local:Command");
    expect(facts.inputs.interpreter).toEqual(["/bin/bash", "-c"]);
    expect(String(facts.inputs.create)).toMatch(/^set -euo pipefail\n/);
  });

  it("gates ssh commands on a wait-for-ssh command with a pinned host key", async () => {
    const ssh = new host.Host("node1", {
      connection: { type: "ssh", address: "127.0.0.1", port: 2222, hostKey: "ssh-ed25519 AAAAC3" },
      privateKey: "PRIVATE",
    });
    await valueOf(ssh.facts);
    const wait = resources.find((r) => r.name === "node1-wait-ssh")!;
    expect(wait.type).toBe("command:remote:Command");
    // The connection carries the private key, so the whole value is a secret.
    const connection = wait.inputs.connection as { value: Record<string, unknown> };
    expect(connection.value).toMatchObject({
      host: "127.0.0.1",
      port: 2222,
      user: "root",
      hostKey: "ssh-ed25519 AAAAC3",
      dialErrorLimit: 60, // the wait gate's retry budget (HostArgs.sshWaitAttempts)
    });
    // every other command of the host, its own and the callers', waits for the host to answer
    const marker = ssh.command("marker", { create: "true" });
    const tsig = ssh.file("tsig", { path: "/etc/bind/tsig.key", content: "k", secret: true });
    await Promise.all([valueOf(marker.stdout), valueOf(tsig.stdout)]);
    const waitUrn = "urn:pulumi:unit::geartrain::geartrain:host:Host$command:remote:Command::node1-wait-ssh";
    expect(wait.dependencies).toEqual([]);
    for (const role of ["facts", "marker", "tsig"]) {
      const child = resources.find((r) => r.name === `node1-${role}`)!;
      expect([role, child.type, child.dependencies]).toEqual([role, "command:remote:Command", [waitUrn]]);
    }
  });

  it("makes its data directory before every other command, and every remote command deletes on destroy", async () => {
    const ssh = new host.Host("node4", {
      connection: { type: "ssh", address: "127.0.0.1", hostKey: "ssh-ed25519 AAAAC3" },
      privateKey: "PRIVATE",
      dataDirectory: "/srv/gt",
    });
    const marker = ssh.command("marker", { create: "true" });
    await Promise.all([valueOf(marker.stdout), valueOf(ssh.facts)]);
    const prefix = "urn:pulumi:unit::geartrain::geartrain:host:Host$command:remote:Command::";
    const data = resources.find((r) => r.name === "node4-data-directory")!;
    expect(data.dependencies).toEqual([`${prefix}node4-wait-ssh`]);
    expect(data.inputs.environment).toEqual({ GT_DIR: "/srv/gt" });
    expect(String(data.inputs.delete)).toContain("rmdir");
    for (const role of ["facts", "marker"])
      expect([role, [...resources.find((r) => r.name === `node4-${role}`)!.dependencies].sort()]).toEqual([
        role,
        [`${prefix}node4-data-directory`, `${prefix}node4-wait-ssh`],
      ]);
    // a remote command is not deletedWith the Host: destroy runs its delete script on the host
    expect(resources.find((r) => r.name === "node4-marker")!.deletedWith).toBe("");
    expect(
      () => new host.Host("node5", { connection: { type: "local" }, dataDirectory: "relative/dir" }),
    ).toThrow(/dataDirectory 'relative\/dir' must be an absolute path/);
  });

  it("keeps a caller's dependsOn beside the wait for ssh", async () => {
    const ssh = new host.Host("node3", {
      connection: { type: "ssh", address: "127.0.0.1", hostKey: "ssh-ed25519 AAAAC3" },
      privateKey: "PRIVATE",
    });
    const first = ssh.command("first", { create: "true" });
    const second = ssh.command("second", { create: "true" }, { dependsOn: first });
    await valueOf(second.stdout);
    const prefix = "urn:pulumi:unit::geartrain::geartrain:host:Host$command:remote:Command::";
    expect([...resources.find((r) => r.name === "node3-second")!.dependencies].sort()).toEqual([
      `${prefix}node3-first`,
      `${prefix}node3-wait-ssh`,
    ]);
  });

  it("writes files through stdin with values in the environment, and hides secret output", async () => {
    const local = new host.Host("local2", { connection: { type: "local" } });
    const tsig = local.file("tsig", {
      path: "/etc/bind/tsig.key",
      content: "s3cret",
      mode: "0640",
      owner: "root:bind",
      secret: true,
    });
    await valueOf(tsig.stdout);
    const file = resources.find((r) => r.name === "local2-tsig")!;
    expect(file.inputs.environment).toEqual({
      GT_PATH: "/etc/bind/tsig.key",
      GT_MODE: "0640",
      GT_OWNER: "root:bind",
    });
    expect(file.inputs.logging).toBe("none");
    expect(String(file.inputs.create)).not.toContain("/etc/bind");
    expect(file.additionalSecretOutputs).toEqual(["stdout", "stderr"]);
  });

  it("marks stdout/stderr of a secret command secret, and only of a secret one", async () => {
    const local = new host.Host("local4", { connection: { type: "local" } });
    const hidden = local.command("hidden", { create: "cat", stdin: "s3cret", secret: true });
    const plain = local.command("plain", { create: "true" });
    const note = local.file("note", { path: "/etc/motd", content: "hello" });
    await Promise.all([valueOf(hidden.stdout), valueOf(plain.stdout), valueOf(note.stdout)]);
    const byName = (name: string) => resources.find((r) => r.name === name)!;
    expect(byName("local4-hidden").additionalSecretOutputs).toEqual(["stdout", "stderr"]);
    expect(byName("local4-hidden").inputs.logging).toBe("none");
    expect(byName("local4-plain").additionalSecretOutputs).toEqual([]);
    expect(byName("local4-note").additionalSecretOutputs).toEqual([]);
    expect(byName("local4-facts").additionalSecretOutputs).toEqual([]);
  });

  it("names every child with the host's name as prefix", async () => {
    const local = new host.Host("local3", { connection: { type: "local" } });
    local.command("marker", { create: "true" });
    await valueOf(local.facts);
    const children = resources.filter((r) => r.type !== "geartrain:host:Host");
    expect(children.length).toBeGreaterThan(0);
    for (const child of children) expect(child.name.startsWith("local3-")).toBe(true);
  });

  it("reports bad arguments as ResourceErrors of the host (no stack trace), naming the field", () => {
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error("expected a throw");
    };
    const bad = thrown(() => new host.Host("Bad_Name", { connection: { type: "local" } }));
    expect(pulumi.ResourceError.isInstance(bad)).toBe(true);
    expect((bad as Error).message).toMatch(/^invalid name: host name 'Bad_Name' must match/);
    const local = new host.Host("local4", { connection: { type: "local" } });
    const file = thrown(() => local.file("x", { path: "relative", content: "" }));
    expect(pulumi.ResourceError.isInstance(file)).toBe(true);
    expect((file as pulumi.ResourceError).resource).toBe(local);
    expect((file as Error).message).toMatch(/^invalid path: /);
  });

  it("refuses an ssh host without a private key", () => {
    expect(
      () =>
        new host.Host("node2", {
          connection: { type: "ssh", address: "127.0.0.1", hostKey: "ssh-ed25519 AAAA" },
        }),
    ).toThrow(/private key/);
  });
});
