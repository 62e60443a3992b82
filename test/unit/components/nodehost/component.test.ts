// NodeHost under the mocked engine, beside the MessageBus whose agent user it takes: every child is named
// `${name}-<role>` and parented to it, each daemon a Service with its one daemon child, the bus password is
// in no plain input (only the 0600 file's secret stdin and the agent's secret environment), the outputs are
// what the Platform wires on, and bad arguments fail naming the field before any child is declared.
import * as pulumi from "@pulumi/pulumi";
import { recordResources, RegisteredResource, valueOf } from "../../../helpers/pulumi-mocks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockedHostKeyForTheNodeHostTest";
const factsOf = () =>
  JSON.stringify({
    kernel: "Linux 6.1",
    os: "debian 12",
    cgroup: "v2",
    selinux: "unavailable",
    systemd: false,
  });
const generated = (name: string) => `GENSECRET-${name}`.padEnd(32, "x");
const resources = recordResources((r) => {
  if (r.name.endsWith("-facts")) return { stdout: factsOf(), stderr: "" };
  if (r.name.endsWith("-host-key")) return { stdout: `${HOST_KEY}\n`, stderr: "" };
  if (r.type.endsWith("GeneratedSecret")) return { value: generated(r.name) };
  return { stdout: "", stderr: "" };
});

import type * as HostModule from "../../../../components/host";
import type * as MessageBusModule from "../../../../components/messagebus";
import type * as NodeHostModule from "../../../../components/nodehost";

function plainText(value: unknown): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      if ((v as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270")
        return "[secret]";
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return JSON.stringify(strip(value));
}

const release = {
  node: "/usr/bin/node",
  entry: "/opt/geartrain/bin/geartrain",
  version: "0.1.0",
  dependsOn: [],
};

describe("NodeHost under the mocked engine", () => {
  let hostMod: typeof HostModule;
  let mb: typeof MessageBusModule;
  let nh: typeof NodeHostModule;
  beforeAll(async () => {
    hostMod = await import("../../../../components/host");
    mb = await import("../../../../components/messagebus");
    nh = await import("../../../../components/nodehost");
  });
  beforeEach(() => resources.splice(0));

  const childrenOf = (type: string, name: string): RegisteredResource[] =>
    resources.filter((r) => r.parent.endsWith(`${type}::${name}`));

  function args(
    host: HostModule.Host,
    bus: MessageBusModule.MessageBus,
    extra: Partial<NodeHostModule.NodeHostArgs> = {},
  ) {
    const agent = bus.users["agent:n1"];
    return {
      host,
      release,
      identity: "n1",
      district: "d1",
      profile: "small",
      uidRange: { firstUid: 65300, maxUid: 65399 },
      publicHostname: "n1.apps.example.test",
      cloudDomain: "apps.example.test",
      bus: { host: bus.address, port: bus.port, user: agent.name, password: agent.password },
      directory: "/srv/gt/n1",
      configDirectory: "/srv/gt/n1-etc",
      gearBaseDir: "/srv/gt/gears",
      ...extra,
    };
  }

  it("children, outputs, secrets", async () => {
    const local = new hostMod.Host("local", {
      connection: { type: "local" },
      serviceDirectory: "/srv/gt/sv",
    });
    const bus = new mb.MessageBus("bus", { host: local, directory: "/srv/gt/bus", nodes: ["n1"] });
    const node = new nh.NodeHost("n1", args(local, bus));
    expect(await valueOf(node.identity)).toBe("n1");
    expect(await valueOf(node.publicHostname)).toBe("n1.apps.example.test");
    expect(await valueOf(node.facts)).toEqual({
      node: "n1",
      district: "d1",
      profile: "small",
      maxActiveGears: 100,
      publicHostname: "n1.apps.example.test",
    });
    expect(await valueOf(node.httpEndpoint)).toBe("http://127.0.0.1:18081");
    expect(await valueOf(node.httpsEndpoint)).toBeUndefined();
    expect(await valueOf(node.gitSshHost)).toBe("127.0.0.1");
    expect(await valueOf(node.gitSshPort)).toBe(12222);
    expect(await valueOf(node.gitSshHostKey)).toBe(HOST_KEY);
    expect(await valueOf(node.nodeConfigPath)).toBe("/srv/gt/n1-etc/node.json");
    expect(await valueOf(node.agentConfigPath)).toBe("/srv/gt/n1-etc/agent.json");
    expect(node.agent).toBe(node.services.agent);
    await valueOf(node.agent.daemon.urn);
    await valueOf((node.ready as pulumi.CustomResource).urn);

    const children = childrenOf("NodeHost", "n1");
    for (const c of children) expect(c.name.startsWith("n1-")).toBe(true);
    expect(children.map((c) => c.name.slice(3)).sort()).toEqual(
      [
        "prepare",
        "host-key",
        "node-json",
        "agent-json",
        "agent-password",
        "nginx-conf",
        "frontend-base",
        "sshd-config",
        "pam",
        "selinux",
        "cartridges",
        "nginx",
        "sshd",
        "unidler",
        "agent",
        "frontend-sync",
        "check",
      ].sort(),
    );
    for (const s of ["nginx", "sshd", "unidler", "agent"])
      expect(childrenOf("Service", `n1-${s}`).map((r) => r.name)).toEqual([`n1-${s}-daemon`]);
    // nothing named n1-* lives outside the component's tree
    const strays = resources.filter(
      (r) => r.name.startsWith("n1-") && !r.parent.endsWith("::n1") && !r.parent.includes("::n1-"),
    );
    expect(strays.map((r) => r.name)).toEqual([]);

    // the agent's password: only the 0600 file (secret stdin, no logging) and the agent's secret env hash
    const password = generated("bus-password-agent-n1");
    const file = resources.find((r) => r.name === "n1-agent-password")!;
    expect(file.inputs.logging).toBe("none");
    expect(plainText(file.inputs.stdin)).toBe('"[secret]"');
    expect(file.inputs.environment).toMatchObject({
      GT_MODE: "0600",
      GT_PATH: "/srv/gt/n1-etc/agent.password",
    });
    for (const r of resources) {
      const text = plainText(r.inputs);
      expect({ resource: r.name, leaked: text.includes(password) }).toEqual({
        resource: r.name,
        leaked: false,
      });
    }
    // agent.json as written names the file, never the password
    const agentJson = resources.find((r) => r.name === "n1-agent-json")!;
    const doc = JSON.parse(agentJson.inputs.stdin as string);
    expect(doc.bus).toEqual({
      host: "127.0.0.1",
      port: 16163,
      user: "agent-n1",
      passwordFile: "/srv/gt/n1-etc/agent.password",
    });
    // the agent runs `geartrain agent run --config F` from the release, knowing node.json
    const agentDaemon = resources.find((r) => r.name === "n1-agent-daemon")!;
    const spec = agentDaemon.inputs.spec as { command: string[]; requires: string[] };
    expect(spec.command).toEqual([
      "/usr/bin/node",
      "/opt/geartrain/bin/geartrain",
      "agent",
      "run",
      "--config",
      "/srv/gt/n1-etc/agent.json",
    ]);
    expect(spec.requires).toEqual(["n1-nginx", "n1-unidler"]);
  });

  it("HTTPS: the certificate and the secret key become files; the key is in no plain input", async () => {
    const local = new hostMod.Host("local3", {
      connection: { type: "local" },
      serviceDirectory: "/srv/gt/sv",
    });
    const bus = new mb.MessageBus("bus3", { host: local, directory: "/srv/gt/bus3", nodes: ["n1"] });
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate/resolve");
    const made = await generateSelfSignedCertificate(
      resolveSelfSignedCertificate({ domain: "apps.example.test" }),
    );
    // a line of the key's base64 body: what a leak would show
    const keyLine = made.privateKey.split("\n")[1]!;
    const node = new nh.NodeHost(
      "n3",
      args(local, bus, {
        frontend: {
          tls: {
            listen: "127.0.0.1:18443",
            certificate: made.certificate,
            key: pulumi.secret(made.privateKey),
          },
        },
      }),
    );
    expect(await valueOf(node.httpsEndpoint)).toBe("https://127.0.0.1:18443");
    await valueOf((node.ready as pulumi.CustomResource).urn);
    const names = childrenOf("NodeHost", "n3").map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["n3-tls-certificate", "n3-tls-key", "n3-frontend-sync"]));
    const keyFile = resources.find((r) => r.name === "n3-tls-key")!;
    expect(keyFile.inputs.logging).toBe("none");
    expect(keyFile.inputs.environment).toMatchObject({
      GT_MODE: "0600",
      GT_PATH: "/srv/gt/n1/nginx/tls/frontend.key",
    });
    for (const r of resources)
      expect({ resource: r.name, leaked: plainText(r.inputs).includes(keyLine) }).toEqual({
        resource: r.name,
        leaked: false,
      });
  });

  it("bus over TLS: the CA becomes a file beside agent.json, which names it and the server name", async () => {
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate/resolve");
    const { certificate } = await generateSelfSignedCertificate(
      resolveSelfSignedCertificate({ domain: "apps.example.test" }),
    );
    const local = new hostMod.Host("local4", {
      connection: { type: "local" },
      serviceDirectory: "/srv/gt/sv",
    });
    const bus = new mb.MessageBus("bus4", { host: local, directory: "/srv/gt/bus4", nodes: ["n1"] });
    const plainNode = new nh.NodeHost(
      "n5",
      args(local, bus, { directory: "/srv/gt/n5", configDirectory: "/srv/gt/n5-etc" }),
    );
    const node = new nh.NodeHost(
      "n4",
      args(local, bus, {
        directory: "/srv/gt/n4",
        configDirectory: "/srv/gt/n4-etc",
        bus: {
          host: "10.0.0.7",
          port: 16164,
          user: "agent-n1",
          password: pulumi.secret("GIVEN-agent-pw"),
          tls: { ca: pulumi.output(certificate), serverName: "bus1.apps.example.test" },
        },
      }),
    );
    await valueOf((node.ready as pulumi.CustomResource).urn);
    await valueOf((plainNode.ready as pulumi.CustomResource).urn);
    const ca = resources.find((r) => r.name === "n4-bus-ca")!;
    expect(ca.inputs.environment).toMatchObject({ GT_PATH: "/srv/gt/n4-etc/bus-ca.crt" });
    expect(ca.inputs.stdin).toBe(certificate.endsWith("\n") ? certificate : `${certificate}\n`);
    const doc = JSON.parse(resources.find((r) => r.name === "n4-agent-json")!.inputs.stdin as string);
    expect(doc.bus).toEqual({
      host: "10.0.0.7",
      port: 16164,
      user: "agent-n1",
      passwordFile: "/srv/gt/n4-etc/agent.password",
      tls: { caFile: "/srv/gt/n4-etc/bus-ca.crt", serverName: "bus1.apps.example.test" },
    });
    // the agent waits for the CA file; a plain node has none
    const agent = resources.find((r) => r.name === "n4-agent")!;
    expect(agent.dependencies.filter((d) => d.endsWith("::n4-bus-ca"))).toHaveLength(1);
    expect(resources.filter((r) => r.name === "n5-bus-ca")).toEqual([]);
    expect(
      JSON.parse(resources.find((r) => r.name === "n5-agent-json")!.inputs.stdin as string).bus.tls,
    ).toBe(undefined);
    for (const r of resources) expect(plainText(r.inputs)).not.toContain("GIVEN-agent-pw");
  });

  it("bad arguments fail naming the field, before any child exists", async () => {
    const local = new hostMod.Host("local2", { connection: { type: "local" } });
    const bus = new mb.MessageBus("bus2", { host: local, nodes: ["n1"] });
    const before = resources.length;
    const bad: [Partial<NodeHostModule.NodeHostArgs>, RegExp][] = [
      [{ identity: "N1" }, /invalid identity/],
      [{ profile: "huge" }, /invalid profile/],
      [{ frontend: { listen: "127.0.0.1:70000" } }, /invalid frontend\.listen/],
      [{ gitSsh: { port: 18081 } }, /invalid gitSsh\.port/],
      [{ bus: { host: "127.0.0.1", port: 70000, user: "agent-n1", password: "x" } }, /invalid bus\.port/],
      [{ release: { ...release, entry: "geartrain" } }, /invalid release\.entry/],
      [
        {
          bus: {
            host: "10.0.0.7",
            port: 16164,
            user: "agent-n1",
            password: "x",
            tls: { ca: "PEM", serverName: "b_1.test" },
          },
        },
        /invalid bus\.tls\.serverName/,
      ],
    ];
    for (const [extra, message] of bad)
      expect(() => new nh.NodeHost("n9", args(local, bus, extra))).toThrow(message);
    await new Promise((r) => setTimeout(r, 50));
    expect(
      resources
        .slice(before)
        .map((r) => r.name)
        .filter((n) => n.startsWith("n9-")),
    ).toEqual([]);
  });
});
