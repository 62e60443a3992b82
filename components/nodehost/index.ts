// NodeHost: one node host of a district on a Host. Host preparation (the Debian packages it needs, checked
// with the fix command; directories; the SELinux policy module where SELinux is enabled), node.json and
// agent.json rendered from the node layer's and the agent's own types and validated with their own parsers,
// the shipped cartridges in the node's repository, and the node's daemons as Services: its own nginx (the
// HTTP frontend), its own sshd for gear git access (host key generated once, pinned), the unidler and the
// agent (`geartrain agent run --config F`). Registration in the district is the District's (it runs
// `geartrain admin district add-node` once the agent's facts arrived). docs/platform.md.
import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../common/errors";
import { Service } from "../host";
import { renderCaFile, sha256 } from "../platform-resolve";
import { attributeErrors } from "../resource-error";
import { NodeHostArgs, NodeHostBusTls, NodeHostServices } from "./args";
import {
  agentConfigOf,
  CARTRIDGES_SCRIPT,
  CHECK_SCRIPT,
  FRONTEND_SYNC_SCRIPT,
  HOST_KEY_SCRIPT,
  nodeHostServices,
  PREPARE_SCRIPT,
  REMOVE_CARTRIDGES_SCRIPT,
  REMOVE_HOST_KEY_SCRIPT,
  REMOVE_SELINUX_SCRIPT,
  renderAgentJson,
  renderFrontendBase,
  renderFrontendCertificate,
  renderFrontendKey,
  renderNginxConf,
  renderNodeJson,
  renderPamService,
  renderSshdConfig,
  SELINUX_SCRIPT,
  UNPREPARE_SCRIPT,
} from "./render";
import { nodeHostPaths, resolveNodeHost } from "./resolve";

export * from "./args";
export { resolveNodeHost, nodeHostPaths } from "./resolve";
export type { NodeHostSpec } from "./resolve";
export { GEAR_GIT_SSHD_OPTIONS, parseNodeJson } from "./render";

function busTlsShape(tls: NodeHostBusTls | undefined): { serverName?: string } | undefined {
  if (typeof tls !== "object" || tls === null) return tls as undefined;
  return tls.serverName === undefined ? {} : { serverName: tls.serverName };
}

export class NodeHost extends pulumi.ComponentResource {
  /** The node's identity (its bus queue `geartrain.node.<identity>`, its name in the district). */
  public readonly identity: pulumi.Output<string>;
  public readonly publicHostname: pulumi.Output<string>;
  /** The facts the agent reports, as the District compares them before registering the node. */
  public readonly facts: pulumi.Output<{
    node: string;
    district: string;
    profile: string;
    maxActiveGears: number;
    publicHostname: string;
  }>;
  /** `http://<address>:<port>` of the node's nginx (gears answer there by Host header). */
  public readonly httpEndpoint: pulumi.Output<string>;
  /** `https://<address>:<port>` once the frontend serves TLS; undefined until then. */
  public readonly httpsEndpoint: pulumi.Output<string | undefined>;
  /** The gear git sshd's address. */
  public readonly gitSshHost: pulumi.Output<string>;
  public readonly gitSshPort: pulumi.Output<number>;
  /** Its host key, "ssh-ed25519 AAAA...": generated once on the host, pin it in known_hosts. */
  public readonly gitSshHostKey: pulumi.Output<string>;
  /** Where node.json and agent.json are on the host. */
  public readonly nodeConfigPath: pulumi.Output<string>;
  public readonly agentConfigPath: pulumi.Output<string>;
  /** The agent's Service (what the District waits for before it registers the node). */
  public readonly agent: Service;
  /** Every daemon of the node host. */
  public readonly services: NodeHostServices;
  /** `geartrain node check` passed once everything ran (depend on this before using the node). */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: NodeHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:NodeHost", name, {}, opts);
    const { host, release, bus } = args;
    const spec = attributeErrors(this, () =>
      resolveNodeHost(name, {
        ...args,
        release: { node: release?.node, entry: release?.entry },
        // the CA is an Input (checked when known); anything but an object is resolve's to refuse
        bus: { user: bus?.user, tls: busTlsShape(bus?.tls) },
      }),
    );
    const paths = nodeHostPaths(spec);
    const nodeJson = attributeErrors(this, () => renderNodeJson(spec));
    // a bus endpoint known now is checked now, before anything is declared
    if (typeof bus.host === "string" && typeof bus.port === "number") {
      const plain = { host: bus.host, port: bus.port };
      attributeErrors(this, () => agentConfigOf(spec, plain));
    }
    const agentJson = pulumi
      .all([bus.host, bus.port])
      .apply(([h, p]) => attributeErrors(this, () => renderAgentJson(spec, { host: h, port: p })));
    const password = pulumi.secret(
      pulumi.output(bus.password).apply((pw) =>
        attributeErrors(this, () => {
          if (typeof pw !== "string" || pw.length === 0 || /[\r\n\0]/.test(pw))
            throw new ValidationError("bus.password", "must be a non-empty line (no CR, LF or NUL)");
          return pw;
        }),
      ),
    );
    // over TLS: the bus's CA (public); a new CA restarts the agent like a new agent.json
    const busCa = spec.busTls
      ? pulumi
          .output(bus.tls!.ca)
          .apply((pem) => attributeErrors(this, () => renderCaFile("bus.tls.ca", pem)))
      : undefined;
    const nginxConf = renderNginxConf(spec);
    const frontendBase = renderFrontendBase(spec);
    const sshdConfig = renderSshdConfig(spec);
    const pam = renderPamService(spec);
    const defs = nodeHostServices(spec);
    const tool = { GT_NODE: spec.release.node, GT_ENTRY: spec.release.entry };
    // the gears' netfilter table (node.json network.table, the node's default filled in): removed on
    // destroy once no gear is left
    const networkTable = String((JSON.parse(nodeJson) as { network: { table: string } }).network.table);
    const nodeEnv = { ...tool, GEARTRAIN_NODE_CONFIG: paths.nodeJson };

    const prepare = host.commandFor(
      this,
      name,
      "prepare",
      {
        create: PREPARE_SCRIPT,
        delete: UNPREPARE_SCRIPT,
        environment: {
          ...tool,
          GT_DIR: spec.directory,
          GT_CONFIG_DIR: spec.configDirectory,
          GT_GEAR_BASE: spec.gearBaseDir,
          GT_STATE_DIR: paths.stateDir,
          GT_NGINX: spec.frontend.nginxBinary,
          GT_SSHD: spec.gitSsh.sshd,
          GT_SSHD_PROGRAM: paths.sshdProgram,
          GT_NETWORK_TABLE: networkTable,
          GT_NETWORK_CHAIN: networkTable.toUpperCase(),
        },
      },
      { dependsOn: [...release.dependsOn] },
    );
    const after = (...r: pulumi.Resource[]) => ({ dependsOn: [prepare, ...r] });
    const hostKey = host.commandFor(
      this,
      name,
      "host-key",
      {
        create: HOST_KEY_SCRIPT,
        delete: REMOVE_HOST_KEY_SCRIPT,
        environment: { GT_KEY: paths.sshdHostKey, GT_COMMENT: `geartrain-${name}-git` },
      },
      after(),
    );
    const nodeFile = host.fileFor(
      this,
      name,
      "node-json",
      { path: paths.nodeJson, content: nodeJson },
      after(),
    );
    const agentFile = host.fileFor(
      this,
      name,
      "agent-json",
      { path: paths.agentJson, content: agentJson, mode: "0640" },
      after(),
    );
    const passwordFile = host.fileFor(
      this,
      name,
      "agent-password",
      { path: paths.agentPassword, content: password.apply((pw) => `${pw}\n`), mode: "0600", secret: true },
      after(),
    );
    const busCaFile = busCa
      ? [host.fileFor(this, name, "bus-ca", { path: paths.busCa, content: busCa }, after())]
      : [];
    const nginxFiles = [
      host.fileFor(this, name, "nginx-conf", { path: paths.nginxConf, content: nginxConf }, after()),
      host.fileFor(this, name, "frontend-base", frontendBase, after()),
    ];
    const nginxEnv: Record<string, pulumi.Input<string>> = {
      GEARTRAIN_CONFIG_SHA256: sha256(nginxConf + frontendBase.content),
    };
    const tls = args.frontend?.tls;
    if (spec.frontend.tls && tls) {
      const certificate = pulumi
        .output(tls.certificate)
        .apply((pem) => attributeErrors(this, () => renderFrontendCertificate(pem)));
      const key = pulumi.secret(
        pulumi
          .all([tls.certificate, tls.key])
          .apply(([pem, keyPem]) => attributeErrors(this, () => renderFrontendKey(pem, keyPem))),
      );
      nginxFiles.push(
        host.fileFor(
          this,
          name,
          "tls-certificate",
          { path: paths.tlsCertificate, content: certificate },
          after(),
        ),
        host.fileFor(
          this,
          name,
          "tls-key",
          { path: paths.tlsKey, content: key, mode: "0600", secret: true },
          after(),
        ),
      );
      // a new certificate or key restarts nginx (the hash is kept secret like the key)
      nginxEnv.GEARTRAIN_TLS_SHA256 = pulumi.secret(
        pulumi.all([certificate, key]).apply(([c, k]) => sha256(c + k)),
      );
    }
    const sshdFiles = [
      host.fileFor(this, name, "sshd-config", { path: paths.sshdConfig, content: sshdConfig }, after()),
      host.fileFor(this, name, "pam", { path: paths.pamFile, content: pam }, after()),
    ];
    const selinux = host.commandFor(
      this,
      name,
      "selinux",
      { create: SELINUX_SCRIPT, delete: REMOVE_SELINUX_SCRIPT, environment: nodeEnv },
      after(nodeFile),
    );
    const cartridges = host.commandFor(
      this,
      name,
      "cartridges",
      {
        create: CARTRIDGES_SCRIPT,
        delete: REMOVE_CARTRIDGES_SCRIPT,
        environment: {
          ...nodeEnv,
          GT_SRC: spec.cartridgeDirectory,
          GT_CARTRIDGES: spec.cartridges.join(" "),
          GT_STATE_DIR: paths.stateDir,
          // a new release adds its cartridges again
          GT_RELEASE: release.version,
        },
      },
      after(nodeFile),
    );

    const service = (
      role: keyof NodeHostServices,
      environment: Record<string, pulumi.Input<string>>,
      dependsOn: pulumi.Resource[],
      requires: Service[] = [],
    ): Service => {
      const { environmentNames: _names, ...def } = defs[role];
      return new Service(
        `${name}-${role}`,
        { host, ...def, environment, requires },
        { parent: this, dependsOn },
      );
    };
    const nginx = service("nginx", { GEARTRAIN_CONFIG_SHA256: sha256(nginxConf + frontendBase.content) }, [
      prepare,
      ...nginxFiles,
    ]);
    const sshd = service("sshd", { GEARTRAIN_CONFIG_SHA256: sha256(sshdConfig + pam) }, [
      prepare,
      hostKey,
      ...sshdFiles,
    ]);
    const unidler = service(
      "unidler",
      {
        GEARTRAIN_CONFIG_SHA256: sha256(nodeJson),
        GEARTRAIN_NODE_CONFIG: paths.nodeJson,
        GEARTRAIN_RELEASE: release.version,
      },
      [prepare, nodeFile, cartridges, ...release.dependsOn],
    );
    this.agent = service(
      "agent",
      {
        GEARTRAIN_CONFIG_SHA256: busCa
          ? pulumi.all([agentJson, busCa]).apply(([a, ca]) => sha256(nodeJson + a + ca))
          : agentJson.apply((a) => sha256(nodeJson + a)),
        // sshkey.add writes the forced command with --config <node.json>
        GEARTRAIN_NODE_CONFIG: paths.nodeJson,
        GEARTRAIN_RELEASE: release.version,
        // a new password restarts the agent; the hash is kept secret like the password
        GEARTRAIN_SECRET_SHA256: pulumi.secret(password.apply(sha256)),
      },
      [prepare, nodeFile, agentFile, passwordFile, ...busCaFile, cartridges, selinux, ...release.dependsOn],
      [nginx, unidler],
    );
    this.services = { nginx, sshd, unidler, agent: this.agent };
    // the gears' nginx files rendered again when node.json changed (TLS on or off, another listen), and a
    // reload after a new certificate (docs/frontend.md "HTTPS")
    const sync = host.commandFor(
      this,
      name,
      "frontend-sync",
      {
        create: FRONTEND_SYNC_SCRIPT,
        environment: {
          ...nodeEnv,
          GT_CONFIG_SHA256: sha256(nodeJson),
          // and after a new certificate or key (the hash secret like the key)
          ...(nginxEnv.GEARTRAIN_TLS_SHA256 ? { GT_TLS_SHA256: nginxEnv.GEARTRAIN_TLS_SHA256 } : {}),
        },
      },
      { dependsOn: [nginx.daemon, nodeFile] },
    );
    const check = host.commandFor(
      this,
      name,
      "check",
      {
        create: CHECK_SCRIPT,
        environment: { ...nodeEnv, GT_CONFIG_SHA256: sha256(nodeJson), GT_RELEASE: release.version },
      },
      {
        dependsOn: [nginx.daemon, sshd.daemon, unidler.daemon, this.agent.daemon, cartridges, selinux, sync],
      },
    );
    this.ready = check;

    this.identity = pulumi.output(spec.identity);
    this.publicHostname = pulumi.output(spec.publicHostname);
    this.facts = pulumi.output({
      node: spec.identity,
      district: spec.district,
      profile: spec.profile,
      maxActiveGears: spec.maxActiveGears,
      publicHostname: spec.publicHostname,
    });
    this.httpEndpoint = pulumi.output(`http://${spec.frontend.address}:${spec.frontend.port}`);
    const https = spec.frontend.tls;
    this.httpsEndpoint = pulumi.output(https ? `https://${https.address}:${https.port}` : undefined);
    this.gitSshHost = pulumi.output(spec.gitSsh.address);
    this.gitSshPort = pulumi.output(spec.gitSsh.port);
    this.gitSshHostKey = hostKey.stdout.apply((s) => s.trim());
    this.nodeConfigPath = pulumi.output(paths.nodeJson);
    this.agentConfigPath = pulumi.output(paths.agentJson);
    this.registerOutputs({
      identity: this.identity,
      publicHostname: this.publicHostname,
      facts: this.facts,
      httpEndpoint: this.httpEndpoint,
      httpsEndpoint: this.httpsEndpoint,
      gitSshHost: this.gitSshHost,
      gitSshPort: this.gitSshPort,
      gitSshHostKey: this.gitSshHostKey,
      nodeConfigPath: this.nodeConfigPath,
      agentConfigPath: this.agentConfigPath,
    });
  }
}
