// NodeHost resolve and render (no engine): every bad arg fails naming its field; node.json, agent.json,
// nginx.conf, the frontend's shared file, sshd_config, the PAM service and each daemon's systemd unit and
// runit service are snapshotted for a minimal and a full node host, each rendered twice (same bytes);
// node.json is what the node layer's own parser reads back, agent.json what the agent's own schema accepts.
import * as path from "path";
import { AGENT_CONFIG_SCHEMA, validateAgentConfig } from "../../../../common/config/agent-config";
import * as agentConfig from "../../../../services/agent/config";
import { resolveService } from "../../../../components/host/service/model";
import { renderDefinition } from "../../../../components/host/service/render";
import {
  agentConfigOf,
  GEAR_GIT_SSHD_OPTIONS,
  nodeHostServices,
  parseNodeJson,
  renderAgentJson,
  renderFrontendBase,
  renderFrontendCertificate,
  renderFrontendKey,
  renderNginxConf,
  renderNodeJson,
  renderPamService,
  renderSshdConfig,
} from "../../../../components/nodehost/render";
import { NodeHostInput, nodeHostPaths, resolveNodeHost } from "../../../../components/nodehost/resolve";
import { GEAR_GIT_SSHD_CONFIG } from "../../../helpers/sshd";
import { renderFrontendBaseConf, resolveConfig } from "../../../../node";

const invalid = (fn: () => unknown, field: string) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  expect((err as { field?: string }).field).toBe(field);
  expect((err as Error).message).toContain(`invalid ${field}`);
};

const release = { node: "/usr/bin/node", entry: "/opt/geartrain/bin/geartrain" };
const minimalArgs: NodeHostInput = {
  release,
  identity: "node1",
  district: "d1",
  profile: "small",
  uidRange: { firstUid: 1000, maxUid: 6999 },
  publicHostname: "node1.apps.example.com",
  cloudDomain: "apps.example.com",
  bus: { user: "agent-node1" },
};
const fullArgs: NodeHostInput = {
  release: { node: "/usr/local/bin/node", entry: "/srv/geartrain/release-7/bin/geartrain" },
  identity: "east-n2",
  district: "east.large",
  profile: "large",
  uidRange: { firstUid: 7000, maxUid: 12999 },
  publicHostname: "n2.east.example.net",
  cloudDomain: "cloud.example.net",
  maxActiveGears: 250,
  bus: { user: "agent-east-n2", tls: { serverName: "bus.cloud.example.net" } },
  gearBaseDir: "/srv/gears",
  configDirectory: "/srv/geartrain/etc",
  directory: "/srv/geartrain/node-east-n2",
  frontend: {
    listen: "10.0.0.12:8080",
    idleStarter: "127.0.0.1:18199",
    nginxBinary: "/usr/sbin/nginx",
    tls: { listen: "10.0.0.12:8443", certificate: "PEM", key: "PEM", http2: false },
  },
  gitSsh: { address: "10.0.0.12", port: 2222, sshd: "/usr/sbin/sshd" },
  node: {
    stateDir: "/srv/gears/.state",
    gecos: "Geartrain east gear",
    limitsDir: "/etc/security/limits.d",
    cgroupRootName: "gt-east",
    isolation: "nftables",
    networkTable: "gt_east",
    diskMode: "quota",
  },
  cartridges: ["static", "nodejs", "static"],
  cartridgeDirectory: "/srv/geartrain/release-7/cartridges",
  factsIntervalSeconds: 10,
  agentConcurrency: 4,
};
const minimal = resolveNodeHost("node1", minimalArgs);
const full = resolveNodeHost("east-n2", fullArgs);
const bus = { host: "127.0.0.1", port: 16163 };
const fullBus = { host: "bus.example.net", port: 61614 };

describe("NodeHost resolve", () => {
  test("defaults", () => {
    expect(minimal).toMatchObject({
      directory: "/var/lib/geartrain/nodehost/node1",
      configDirectory: "/etc/geartrain",
      gearBaseDir: "/var/lib/geartrain",
      maxActiveGears: 100,
      frontend: { listen: "127.0.0.1:18081", idleStarter: "127.0.0.1:18099" },
      gitSsh: { address: "127.0.0.1", port: 12222, sshd: "/usr/sbin/sshd" },
      cartridges: ["cron", "nodejs", "postgresql", "python", "static"],
      cartridgeDirectory: "/opt/geartrain/cartridges",
      factsIntervalMs: 30000,
      agentConcurrency: 1,
    });
    expect(full.cartridges).toEqual(["nodejs", "static"]);
    expect(nodeHostPaths(minimal).stateDir).toBe("/var/lib/geartrain/.geartrain");
    expect(nodeHostPaths(full).stateDir).toBe("/srv/gears/.state");
  });

  const bad: [string, Partial<NodeHostInput> | Record<string, unknown>][] = [
    ["identity", { identity: "Node.1" }],
    ["district", { district: "d 1" }],
    ["profile", { profile: "huge" }],
    ["uidRange", { uidRange: undefined }],
    ["uidRange.firstUid", { uidRange: { firstUid: 10, maxUid: 6999 } }],
    ["uidRange.maxUid", { uidRange: { firstUid: 2000, maxUid: 1999 } }],
    ["publicHostname", { publicHostname: "node_1..example" }],
    ["cloudDomain", { cloudDomain: "-bad-.com" }],
    ["maxActiveGears", { maxActiveGears: -1 }],
    ["bus", { bus: undefined }],
    ["bus.user", { bus: { user: "agent.node1" } }],
    ["bus.tls", { bus: { user: "agent-node1", tls: true } }],
    ["bus.tls", { bus: { user: "agent-node1", tls: null } }],
    ["bus.tls.serverName", { bus: { user: "agent-node1", tls: { serverName: "bus_1.example.net" } } }],
    ["bus.tls.serverName", { bus: { user: "agent-node1", tls: { serverName: "10.0.0.7." } } }],
    ["gearBaseDir", { gearBaseDir: "relative/gears" }],
    ["gearBaseDir", { gearBaseDir: "/var/lib/geartrain/nodehost/node1/gears" }],
    ["configDirectory", { configDirectory: "/etc/../etc/geartrain" }],
    ["configDirectory", { configDirectory: "/var/lib/geartrain/nodehost/node1/etc" }],
    ["directory", { directory: "/srv" }],
    ["frontend.listen", { frontend: { listen: "localhost:80" } }],
    ["frontend.listen", { frontend: { listen: "127.0.0.1:0" } }],
    ["frontend.idleStarter", { frontend: { idleStarter: "127.0.0.1:18081" } }],
    ["frontend.nginxBinary", { frontend: { nginxBinary: "nginx" } }],
    ["frontend.tls", { frontend: { tls: null } }],
    ["frontend.tls.listen", { frontend: { tls: { listen: "127.0.0.1:18081", certificate: "c", key: "k" } } }],
    ["frontend.tls.listen", { frontend: { tls: { listen: "443", certificate: "c", key: "k" } } }],
    ["frontend.tls.key", { frontend: { tls: { listen: "127.0.0.1:18443", certificate: "c" } } }],
    [
      "frontend.tls.http2",
      { frontend: { tls: { listen: "127.0.0.1:18443", certificate: "c", key: "k", http2: "yes" } } },
    ],
    ["gitSsh.address", { gitSsh: { address: "::1" } }],
    ["gitSsh.port", { gitSsh: { port: 22 } }],
    ["gitSsh.port", { gitSsh: { port: 18081 } }],
    ["gitSsh.sshd", { gitSsh: { sshd: "/usr/sbin/ss hd" } }],
    ["gitSsh.pamService", { gitSsh: { pamService: "sshd" } }],
    ["gitSsh.pamService", { gitSsh: { pamService: "geartrain-../x" } }],
    ["node.stateDir", { node: { stateDir: "/" } }],
    ["node.gecos", { node: { gecos: "a;b" } }],
    ["node.limitsDir", { node: { limitsDir: "x" } }],
    ["node.cgroupRootName", { node: { cgroupRootName: "Geartrain" } }],
    ["node.isolation", { node: { isolation: "pf" } }],
    ["node.networkTable", { node: { networkTable: "a-b" } }],
    ["node.diskMode", { node: { diskMode: "xfs" } }],
    ["node.frobs", { node: { frobs: 1 } }],
    ["cartridges[1]", { cartridges: ["nodejs", "../x"] }],
    ["cartridgeDirectory", { cartridgeDirectory: "/x" }],
    ["release.node", { release: { node: "node", entry: release.entry } }],
    ["release.entry", { release: { node: release.node, entry: "/opt/gear train/bin/geartrain" } }],
    ["factsIntervalSeconds", { factsIntervalSeconds: 0 }],
    ["agentConcurrency", { agentConcurrency: 65 }],
  ];
  test.each(bad)("refuses a bad %s", (field, patch) => {
    invalid(() => resolveNodeHost("node1", { ...minimalArgs, ...patch } as NodeHostInput), field);
  });
  test("names the PAM service and the sshd program after gitSsh.pamService when given", () => {
    const spec = resolveNodeHost("node1", {
      ...minimalArgs,
      gitSsh: { pamService: "geartrain-n1-abc-sshd" },
    });
    const p = nodeHostPaths(spec);
    expect([p.pamFile, path.basename(p.sshdProgram)]).toEqual([
      "/etc/pam.d/geartrain-n1-abc-sshd",
      "geartrain-n1-abc-sshd",
    ]);
    expect(nodeHostPaths(resolveNodeHost("node1", minimalArgs)).pamFile).toBe(
      "/etc/pam.d/geartrain-node1-sshd",
    );
  });
  test("refuses a bad component name", () => invalid(() => resolveNodeHost("Node1", minimalArgs), "name"));
  test("refuses a bad bus endpoint and names it", () => {
    invalid(() => agentConfigOf(minimal, { host: "bad host", port: 16163 }), "bus.host");
    invalid(() => agentConfigOf(minimal, { host: "127.0.0.1", port: 0 }), "bus.port");
  });
});

describe("NodeHost render", () => {
  test.each([
    ["minimal", minimal, bus],
    ["full", full, fullBus],
  ] as const)("renders node.json, agent.json, nginx, sshd and PAM files (%s)", (_label, spec, b) => {
    const files = () => ({
      nodeJson: renderNodeJson(spec),
      agentJson: renderAgentJson(spec, b),
      nginxConf: renderNginxConf(spec),
      frontendBase: renderFrontendBase(spec),
      sshdConfig: renderSshdConfig(spec),
      pam: renderPamService(spec),
    });
    const once = files();
    expect(files()).toEqual(once);
    expect(once).toMatchSnapshot();
  });

  test.each([
    ["minimal", minimal],
    ["full", full],
  ] as const)("node.json is what the node layer's own parser reads back (%s)", (_label, spec) => {
    const text = renderNodeJson(spec);
    const parsed = parseNodeJson(text);
    expect(parsed).toEqual(JSON.parse(text));
    expect(resolveConfig(JSON.parse(text))).toEqual(parsed);
    expect(parsed.district).toEqual({ firstUid: spec.firstUid, maxUid: spec.maxUid });
    expect(parsed.defaultProfile).toBe(spec.profile);
    expect(parsed.cloudDomain).toBe(spec.cloudDomain);
    // the gear git sshd's port, which the node's SELinux module labels ssh_port_t
    expect(parsed.selinux).toEqual({ gitSshPort: spec.gitSsh.port });
    expect(parsed.frontend.prefix).toBe(`${spec.directory}/nginx`);
    expect(parsed.frontend.tls).toEqual(
      spec.frontend.tls
        ? {
            listen: spec.frontend.tls.listen,
            certificate: `${spec.directory}/nginx/tls/frontend.crt`,
            key: `${spec.directory}/nginx/tls/frontend.key`,
            http2: false,
          }
        : null,
    );
    // never the system nginx's files
    expect(JSON.stringify(parsed.frontend)).not.toContain("/etc/nginx");
  });

  test("agent.json passes the agent's own schema (services/agent/config re-exports the same one)", () => {
    expect(agentConfig.AGENT_CONFIG_SCHEMA).toBe(AGENT_CONFIG_SCHEMA);
    expect(agentConfig.validateAgentConfig).toBe(validateAgentConfig);
    const doc = JSON.parse(renderAgentJson(full, fullBus));
    expect(validateAgentConfig(doc)).toEqual(doc);
    // the facts the agent reports come from the args
    expect(doc).toMatchObject({
      node: "east-n2",
      district: "east.large",
      profile: "large",
      maxActiveGears: 250,
      publicHostname: "n2.east.example.net",
      bus: {
        user: "agent-east-n2",
        passwordFile: "/srv/geartrain/etc/agent.password",
        // over TLS: the CA beside agent.json, the name the bus's certificate must carry
        tls: { caFile: "/srv/geartrain/etc/bus-ca.crt", serverName: "bus.cloud.example.net" },
      },
    });
    expect(JSON.stringify(doc)).not.toMatch(/"password"/);
    // plain STOMP without bus.tls; TLS without a server name checks the bus's host
    expect(JSON.parse(renderAgentJson(minimal, bus)).bus.tls).toBeUndefined();
    const noName = resolveNodeHost("node1", { ...minimalArgs, bus: { user: "agent-node1", tls: {} } });
    expect(JSON.parse(renderAgentJson(noName, bus)).bus.tls).toEqual({ caFile: "/etc/geartrain/bus-ca.crt" });
  });

  test("the frontend's shared file is the node frontend's own", () => {
    const base = renderFrontendBase(minimal);
    expect(base.path).toBe("/var/lib/geartrain/nodehost/node1/nginx/conf.d/00-geartrain-base.conf");
    expect(base.content).toBe(renderFrontendBaseConf({ listen: "127.0.0.1:18081" }));
    // with TLS, the node frontend's TLS default server too
    expect(renderFrontendBase(full).content).toContain("listen 10.0.0.12:8443 ssl default_server;");
  });

  test("sshd_config carries the gear git lines the tests' sshd runs with", () => {
    expect(GEAR_GIT_SSHD_CONFIG).toBe(GEAR_GIT_SSHD_OPTIONS);
    const conf = renderSshdConfig(minimal).split("\n");
    for (const line of GEAR_GIT_SSHD_OPTIONS) expect(conf).toContain(line);
    expect(conf).toContain("Port 12222");
    expect(conf).toContain("ListenAddress 127.0.0.1");
  });

  test.each([
    ["minimal", minimal],
    ["full", full],
  ] as const)("renders each daemon's systemd unit and runit service (%s)", (_label, spec) => {
    const defs = nodeHostServices(spec);
    const out: Record<string, unknown> = {};
    for (const [role, def] of Object.entries(defs)) {
      for (const backend of ["systemd", "runit"] as const) {
        const render = () =>
          renderDefinition(
            resolveService({
              ...def,
              backend,
              serviceDirectory: "/var/lib/geartrain/services",
              requires: role === "agent" ? [defs.nginx.name, defs.unidler.name] : [],
            }),
          );
        expect(render()).toEqual(render());
        out[`${role}-${backend}`] = render();
      }
    }
    expect(out).toMatchSnapshot();
  });
});

describe("the frontend's TLS files", () => {
  it("are the certificates only and the certificate's own key; errors name the field, never the key", async () => {
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate/resolve");
    const make = () =>
      generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain: "apps.example.test" }));
    const [made, other] = await Promise.all([make(), make()]);
    expect(renderFrontendCertificate(`text before\n${made.certificate}`)).toBe(
      `${made.certificate.trimEnd()}\n`,
    );
    expect(renderFrontendKey(made.certificate, made.privateKey)).toBe(`${made.privateKey.trimEnd()}\n`);
    invalid(() => renderFrontendCertificate("CERT"), "frontend.tls.certificate");
    invalid(() => renderFrontendCertificate(made.certificate + made.privateKey), "frontend.tls.certificate");
    invalid(() => renderFrontendKey(made.certificate, made.certificate), "frontend.tls.key");
    invalid(() => renderFrontendKey("CERT", made.privateKey), "frontend.tls.certificate");
    let message = "";
    try {
      renderFrontendKey(made.certificate, other.privateKey);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe("invalid frontend.tls.key: is not the key of frontend.tls.certificate");
    expect(message).not.toContain(other.privateKey.split("\n")[1]);
  });
});
