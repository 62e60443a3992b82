// Platform: the whole deployment from the validated topology. It plans (pure, ./plan.ts) who listens where
// and which component gets which arguments, then declares, in order: a Host per host, the Datastore, the
// platform certificate (self-signed, generated once, or the user's), the MessageBus (its TLS key store made
// from that certificate), the Dns with an A record per host, the brokers' shared admin password and the
// Brokers, and each host's cloud-init user data. docs/platform.md, "Platform".
import * as pulumi from "@pulumi/pulumi";
import { Broker } from "../broker";
import { SelfSignedCertificate } from "../certificate";
import { UserData } from "../cloudinit";
import { Datastore } from "../datastore";
import { District } from "../district";
import { Dns } from "../dns";
import { Host } from "../host";
import { MessageBus } from "../messagebus";
import { NodeHost } from "../nodehost";
import { attributeErrors } from "../resource-error";
import { GeneratedSecret } from "../secret";
import { checkoutRoot, InstalledRelease, releaseBundle, type GeartrainRelease } from "../release";
import { ValidationError } from "../../common/errors";
import { PlatformArgs, type PlatformNodeHostSettings, type PlatformNodeSettings } from "./args";
import { hostOf, PlatformPlan, planPlatform, topologyHost } from "./plan";
import { renderHostUserData } from "./render";

export * from "./args";
export { planPlatform, hostOf } from "./plan";
export type { PlatformPlan, HostPlan, BrokerPlan, NodePlan, DistrictPlan } from "./plan";
export { hostCloudConfig, renderHostUserData, ROLE_PACKAGES } from "./render";

/** Makes the bus's PKCS12 key store from the certificate and key (values in the environment only). */
export const KEYSTORE_SCRIPT = [
  'install -d -m 0750 -o "$GT_USER" -g "$GT_USER" -- "$GT_DIR"',
  "umask 077",
  'tmp=$(mktemp -- "$GT_DIR/.keystore.XXXXXX")',
  "trap 'rm -f -- \"$tmp\"' EXIT",
  'openssl pkcs12 -export -name geartrain -in <(printf "%s\\n" "$GT_CERT") -inkey <(printf "%s\\n" "$GT_KEY") -passout env:GT_PASS -out "$tmp"',
  'chown -- "$GT_USER:$GT_USER" "$tmp"',
  'chmod 0640 -- "$tmp"',
  'mv -f -- "$tmp" "$GT_DIR/keystore.p12"',
  "trap - EXIT",
].join("\n");

/** `node.hosts` may only name node hosts, and may not set what is the platform's (`idlePort`). */
function validateNodeHostSettings(plan: PlatformPlan, node: PlatformNodeSettings | undefined): void {
  const hosts = node?.hosts;
  if (hosts === undefined) return;
  if (hosts === null || typeof hosts !== "object" || Array.isArray(hosts))
    throw new ValidationError("node.hosts", "must be an object of settings by node host name");
  for (const [host, own] of Object.entries(hosts)) {
    if (!plan.nodes.some((n) => n.host === host))
      throw new ValidationError(`node.hosts.${host}`, `"${host}" is no host with role node`);
    if (own === null || typeof own !== "object" || Array.isArray(own))
      throw new ValidationError(`node.hosts.${host}`, "must be an object of node settings");
    for (const key of ["hosts", "idlePort"])
      if (key in own)
        throw new ValidationError(`node.hosts.${host}.${key}`, "is the platform's, not one host's");
  }
}

/** A node of the platform, as the outputs list it. */
export interface PlatformNodeOutput {
  readonly name: string;
  readonly address: string;
  readonly publicHostname: string;
  readonly district: string;
  readonly profile: string;
  /** `http://<address>:<nodeHttp>`: its nginx, gears by Host header. */
  readonly httpEndpoint: string;
  /** `https://<address>:<nodeHttps>`, with the platform certificate. */
  readonly httpsEndpoint: string | null;
  /** Its gear git sshd and host key (for known_hosts). */
  readonly gitSsh: { readonly host: string; readonly port: number; readonly hostKey: string };
}

export class Platform extends pulumi.ComponentResource {
  /** Where clients reach the (first) broker's REST API. */
  public readonly brokerUrl: pulumi.Output<string>;
  /** Every broker's URL, in topology order. */
  public readonly brokerUrls: pulumi.Output<string[]>;
  /** The brokers' admin account: `{login, password}` (secret). */
  public readonly admin: pulumi.Output<{ login: string; password: string }>;
  /** The nameserver of the cloud domain: `{address, port, zone}`. */
  public readonly dnsServer: pulumi.Output<{ address: string; port: number; zone: string }>;
  /** The node hosts, their public names and districts. */
  public readonly nodes: pulumi.Output<PlatformNodeOutput[]>;
  /** cloud-init user data (`#cloud-config`) of each host, by host name: to create its VM from. */
  public readonly userData: pulumi.Output<Record<string, string>>;

  /** The plan the platform was built from (pure data). */
  public readonly plan: PlatformPlan;
  /** The Hosts, by host name. */
  public readonly hosts: Readonly<Record<string, Host>>;
  public readonly datastore: Datastore;
  public readonly messageBus: MessageBus;
  public readonly dns: Dns;
  /** The brokers, in topology order. */
  public readonly brokers: readonly Broker[];
  /** The districts, in topology order, made through the first broker. */
  public readonly districts: readonly District[];
  /** The node hosts, in topology order. */
  public readonly nodeHosts: readonly NodeHost[];
  /**
   * The platform's certificate for `*.<domain>` and `<domain>`: the certificate (PEM, plain) and its
   * private key (PEM, secret), generated once (`certificate.source: self-signed`) or the user's (`provided`).
   */
  public readonly certificate: {
    readonly certificate: pulumi.Output<string>;
    readonly privateKey: pulumi.Output<string>;
  };
  /** The generated certificate's component (`certificate.source: self-signed` only). */
  public readonly selfSignedCertificate: SelfSignedCertificate | undefined;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:Platform", name, {}, opts);
    const plan = attributeErrors(this, () => {
      const p = planPlatform(name, args.topology, {
        dataDirectory: args.dataDirectory,
        configDirectory: args.configDirectory,
        idlePort: args.node?.idlePort,
      });
      validateNodeHostSettings(p, args.node);
      if (p.certificate.source === "provided" && !args.certificate)
        throw new ValidationError(
          "certificate",
          "the topology's certificate.source is provided: give the certificate and its private key " +
            "(stack config geartrain:tlsCertificate and the secret geartrain:tlsPrivateKey)",
        );
      return p;
    });
    this.plan = plan;
    const parent = { parent: this };

    // the hosts that run Geartrain programs (brokers, node agents)
    const programHosts = [...new Set([...plan.brokers.map((b) => b.host), ...plan.nodes.map((n) => n.host)])];
    attributeErrors(this, () => {
      const ssh = plan.hosts.find((h) => h.connection.type === "ssh");
      if (ssh && args.sshPrivateKey === undefined)
        throw new ValidationError(
          "sshPrivateKey",
          `host "${ssh.name}" connects by ssh and needs the private key: ` +
            "`pulumi config set --secret geartrain:sshPrivateKey < key`",
        );
    });

    // 1. Hosts
    const hosts: Record<string, Host> = {};
    for (const h of plan.hosts) {
      hosts[h.name] = new Host(
        h.resource,
        {
          connection: h.connection,
          privateKey: h.connection.type === "ssh" ? args.sshPrivateKey : undefined,
          serviceDirectory: plan.serviceDirectory,
          // made when missing, and removed on destroy when the stack made it
          dataDirectory: plan.dataDirectory,
        },
        parent,
      );
    }
    this.hosts = hosts;

    // where the Geartrain programs are on each broker and node host: an installed copy of this checkout's
    // release (the services' own OS users cannot read a checkout under a private home), or the caller's
    const bundle = args.release ? undefined : releaseBundle(checkoutRoot());
    const releases = new Map<string, GeartrainRelease>(
      programHosts.map((hostName) => {
        if (args.release) return [hostName, args.release(topologyHost(args.topology, hostName))];
        const h = plan.hosts.find((p) => p.name === hostName)!;
        const release = new InstalledRelease(
          `${h.resource}-release`,
          {
            host: hosts[hostName]!,
            bundle,
            // a local host keeps it with the platform's data (several dev stacks can share a machine)
            directory: h.connection.type === "local" ? `${plan.dataDirectory}/release` : undefined,
          },
          parent,
        );
        return [hostName, release];
      }),
    );
    const releaseOf = (hostName: string): GeartrainRelease => releases.get(hostName)!;
    /** The host's release, whose users also wait for `after`. */
    const releaseAfter = (hostName: string, after: readonly pulumi.Resource[]): GeartrainRelease => {
      const r = releaseOf(hostName);
      return { node: r.node, entry: r.entry, version: r.version, dependsOn: [...r.dependsOn, ...after] };
    };

    // the platform certificate: generated once by the stack, or the user's (from the stack config)
    const cert = plan.certificate;
    if (cert.source === "self-signed") {
      this.selfSignedCertificate = new SelfSignedCertificate(
        cert.resource,
        { domain: plan.domain, commonName: cert.commonName, dnsNames: cert.dnsNames },
        parent,
      );
      this.certificate = {
        certificate: this.selfSignedCertificate.certificate,
        privateKey: this.selfSignedCertificate.privateKey,
      };
    } else {
      const provided = args.certificate!;
      this.selfSignedCertificate = undefined;
      this.certificate = {
        certificate: pulumi.output(provided.certificate),
        privateKey: pulumi.secret(provided.privateKey),
      };
    }

    // 2. Datastore: listens where its host does, pg_hba lets in the broker hosts only
    const db = plan.datastore;
    this.datastore = new Datastore(
      db.resource,
      {
        host: hosts[db.host]!,
        directory: db.directory,
        address: db.address,
        port: db.port,
        clients: db.clients,
      },
      parent,
    );

    // 3. MessageBus: an agent user per node; over TLS with a key store made from the certificate
    const bus = plan.messageBus;
    const busHost = hosts[bus.host]!;
    let tls: { keyStore: string; keyStorePassword: pulumi.Output<string> } | undefined;
    const busDependsOn: pulumi.Resource[] = [];
    if (bus.tls && bus.keyStore) {
      const password = new GeneratedSecret(`${bus.resource}-keystore-password`, { bytes: 24 }, parent);
      const keyStore = busHost.commandFor(this, name, "bus-keystore", {
        create: KEYSTORE_SCRIPT,
        delete: 'rm -rf -- "$GT_DIR"',
        environment: {
          GT_DIR: bus.keyStore.replace(/\/[^/]+$/, ""),
          GT_USER: "activemq",
          GT_CERT: this.certificate.certificate,
          GT_KEY: this.certificate.privateKey,
          GT_PASS: password.secret,
        },
        secret: true,
      });
      tls = { keyStore: bus.keyStore, keyStorePassword: password.secret };
      busDependsOn.push(keyStore);
    }
    this.messageBus = new MessageBus(
      bus.resource,
      {
        host: busHost,
        directory: bus.directory,
        address: bus.address,
        port: bus.port,
        nodes: bus.nodes,
        tls,
      },
      { parent: this, dependsOn: busDependsOn },
    );

    // 4. Dns: authoritative for the cloud domain, an A record per host
    const dns = plan.dns;
    this.dns = new Dns(
      dns.resource,
      {
        host: hosts[dns.host]!,
        zone: dns.zone,
        directory: dns.directory,
        address: dns.address,
        port: dns.port,
        hosts: dns.records,
      },
      parent,
    );

    // 5. The brokers, sharing one datastore and one generated admin password
    const adminPassword = new GeneratedSecret(plan.adminPassword, { bytes: 24 }, parent);
    const busUser = this.messageBus.users.broker!;
    // one port in the broker's git URLs: the nodes' (they share it unless a host says otherwise)
    const sshPorts = [...new Set(plan.nodes.map((n) => n.ssh))];
    const gitSshPort = sshPorts.length === 1 ? sshPorts[0] : undefined;
    // STOMP over TLS where the bus is used across hosts: its key store holds the platform certificate
    // (*.<domain>), so clients check it against the CA under the bus host's name, <bus host>.<domain>
    const busTls = bus.tls
      ? {
          ca: args.certificate?.ca ?? this.certificate.certificate,
          serverName: hostOf(plan, bus.host).fqdn,
        }
      : undefined;
    this.brokers = plan.brokers.map(
      (b) =>
        new Broker(
          b.resource,
          {
            host: hosts[b.host]!,
            release: releaseOf(b.host),
            address: b.address,
            port: b.port,
            cloudDomain: plan.domain,
            directory: `${plan.dataDirectory}/broker`,
            datastore: this.datastore,
            bus: {
              host: this.messageBus.address,
              port: this.messageBus.port,
              user: busUser.name,
              password: busUser.password,
              ...(busTls ? { tls: busTls } : {}),
            },
            dns: this.dns,
            admin: { login: plan.adminLogin, password: adminPassword.secret },
            // the apps' git URLs name the nodes' gear git sshd port
            ...(gitSshPort !== undefined ? { gitSshPort } : {}),
            // across hosts: HTTPS with the platform certificate under <host>.<domain>
            ...(b.tls
              ? {
                  tls: {
                    certificate: this.certificate.certificate,
                    privateKey: this.certificate.privateKey,
                    serverName: b.fqdn,
                  },
                }
              : {}),
          },
          {
            parent: this,
            dependsOn: [this.datastore.ready, this.messageBus.service, this.dns.service],
          },
        ),
    );

    // 6. The node hosts: started once the bus and the brokers run (the agent's first facts reach a broker),
    // HTTPS with the platform certificate, each agent with its own bus user
    const settings = args.node ?? {};
    const afterControlPlane = [this.messageBus.service, ...this.brokers.map((b) => b.service)];
    this.nodeHosts = plan.nodes.map((n) => {
      const own: PlatformNodeHostSettings = { ...settings, ...settings.hosts?.[n.host] };
      const agent = this.messageBus.users[`agent:${n.identity}`]!;
      return new NodeHost(
        n.resource,
        {
          host: hosts[n.host]!,
          release: releaseAfter(n.host, afterControlPlane),
          identity: n.identity,
          district: n.district,
          profile: n.profile,
          uidRange: { firstUid: n.uidRange.min, maxUid: n.uidRange.max },
          publicHostname: n.publicHostname,
          cloudDomain: plan.domain,
          maxActiveGears: own.maxActiveGears,
          bus: {
            host: this.messageBus.address,
            port: this.messageBus.port,
            user: agent.name,
            password: agent.password,
            ...(busTls ? { tls: busTls } : {}),
          },
          gearBaseDir: n.gearBaseDir,
          configDirectory: plan.configDirectory,
          directory: n.directory,
          frontend: {
            listen: `${n.address}:${n.http}`,
            idleStarter: n.idleStarter,
            tls: {
              listen: `${n.address}:${n.https}`,
              certificate: this.certificate.certificate,
              key: this.certificate.privateKey,
            },
          },
          // its PAM service named after the platform's data directory too: a second platform on the machine
          // (a test's, another checkout's dev stack) has its own /etc/pam.d file
          gitSsh: { address: n.address, port: n.ssh, pamService: n.pamService },
          node: {
            gecos: own.gecos,
            cgroupRootName: own.cgroupRootName,
            networkTable: own.networkTable,
            limitsDir: own.limitsDir,
          },
          factsIntervalSeconds: own.factsIntervalSeconds,
        },
        parent,
      );
    });
    const nodeHostOf = new Map(plan.nodes.map((n, i) => [n.identity, this.nodeHosts[i]!]));

    // 7. The districts, made through the first broker's admin API by the CLI on its host; each node is
    // added once its NodeHost passed its check (and removed, on destroy, before the NodeHost goes)
    const first = plan.brokers[0]!;
    this.districts = plan.districts.map((d) => {
      const members = d.nodes.map((identity) => nodeHostOf.get(identity)!.ready);
      return new District(
        d.resource,
        {
          host: hosts[first.host]!,
          release: releaseAfter(first.host, members),
          broker: this.brokers[0]!,
          districtName: d.name,
          profile: d.profile as "small" | "medium" | "large",
          firstUid: d.uidRange.min,
          capacity: d.uidRange.max - d.uidRange.min + 1,
          nodes: d.nodes,
        },
        parent,
      );
    });

    // cloud-init user data of each host, for VMs made by a cloud provider
    const userData: Record<string, pulumi.Output<string>> = {};
    for (const h of plan.hosts) {
      const rendered = renderHostUserData(plan, h, args.sshAuthorizedKeys ?? []);
      userData[h.name] = new UserData(
        `${h.resource}-userdata`,
        { parts: [{ contentType: "text/cloud-config", filename: `${h.name}.yaml`, content: rendered }] },
        parent,
      ).rendered;
    }

    this.brokerUrls = pulumi.all(this.brokers.map((b) => b.url));
    this.brokerUrl = this.brokers[0]!.url;
    this.admin = pulumi.secret(
      pulumi
        .all([this.brokers[0]!.adminLogin, this.brokers[0]!.adminPassword])
        .apply(([login, password]) => ({ login, password })),
    );
    this.dnsServer = pulumi.output({ address: dns.address, port: dns.port, zone: dns.zone });
    this.nodes = pulumi.all(
      plan.nodes.map((n, i) => {
        const node = this.nodeHosts[i]!;
        return pulumi
          .all([node.httpEndpoint, node.httpsEndpoint, node.gitSshHostKey])
          .apply(([httpEndpoint, httpsEndpoint, gitSshHostKey]) => ({
            name: n.identity,
            address: n.address,
            publicHostname: n.publicHostname,
            district: n.district,
            profile: n.profile,
            httpEndpoint,
            httpsEndpoint: httpsEndpoint ?? null,
            gitSsh: { host: n.address, port: n.ssh, hostKey: gitSshHostKey },
          }));
      }),
    );
    this.userData = pulumi.all(userData);
    this.registerOutputs({
      brokerUrl: this.brokerUrl,
      brokerUrls: this.brokerUrls,
      admin: this.admin,
      dnsServer: this.dnsServer,
      nodes: this.nodes,
      userData: this.userData,
      certificate: this.certificate.certificate,
    });
  }
}
