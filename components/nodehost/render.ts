// Pure, deterministic rendering of the NodeHost's files from its resolved spec: node.json (the node layer's
// NodeConfig, checked with the node layer's own parser), agent.json (checked with the agent's own schema),
// nginx.conf, the frontend's shared file, sshd_config and the PAM service; the Services' argv; the host
// scripts. The same spec gives the same bytes. No secret is rendered here (the bus password is a file of
// its own, written by the class).
import { readFileSync } from "fs";
import Handlebars from "handlebars";
import * as path from "path";
import { validateAgentConfig, type AgentConfig } from "../../common/config/agent-config";
import { dnsNameProblem } from "../../common/dns-names";
import { ValidationError } from "../../common/errors";
import { parseCertificateChain, parseKeyPair } from "../../common/pem";
import { templateDir } from "../../common/template-dir";
import { FRONTEND_BASE_FILE, renderFrontendBaseConf, resolveConfig, type NodeConfig } from "../../node";
import type { ServiceArgs } from "../host/service";
import { nodeHostPaths, NodeHostSpec } from "./resolve";

const compiled = new Map<string, Handlebars.TemplateDelegate>();
function template(file: string): Handlebars.TemplateDelegate {
  let t = compiled.get(file);
  if (!t) {
    const dir = templateDir(__dirname, "components/nodehost/templates", "nginx.conf.hbs");
    t = Handlebars.create().compile(readFileSync(path.join(dir, file), "utf8"), {
      noEscape: true,
      strict: true,
    });
    compiled.set(file, t);
  }
  return t;
}

/**
 * sshd_config lines of a node's gear git access (after Port, ListenAddress, HostKey, PidFile): public keys
 * only (each one a forced command in the gear's authorized_keys), PAM for the session (gear accounts are
 * locked: with UsePAM no, sshd refuses them; the PAM service joins the gear's cgroup), no root, no
 * forwarding. The git deploy tests run their private sshd with the same lines (test/helpers/sshd.ts).
 */
export const GEAR_GIT_SSHD_OPTIONS: readonly string[] = [
  "AuthorizedKeysFile .ssh/authorized_keys",
  "StrictModes yes",
  "PermitUserEnvironment no",
  "PubkeyAuthentication yes",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  // gear accounts are locked (no password): with UsePAM no, sshd would refuse them
  "UsePAM yes",
  "PermitRootLogin no",
  "AllowTcpForwarding no",
  "X11Forwarding no",
  "PrintMotd no",
];

/** Beyond the test sshd's lines: git protocol v2 negotiation (node/deploy/shell.ts passes GIT_PROTOCOL on). */
export const NODE_SSHD_EXTRA: readonly string[] = ["AcceptEnv GIT_PROTOCOL", "DisableForwarding yes"];

/** The node config the spec gives, as the node layer resolves it (every key explicit). */
export function nodeConfigOf(spec: NodeHostSpec): NodeConfig {
  const p = nodeHostPaths(spec);
  const n = spec.node;
  const doc: Record<string, unknown> = {
    gearBaseDir: spec.gearBaseDir,
    ...(n.stateDir !== undefined ? { stateDir: n.stateDir } : {}),
    ...(n.gecos !== undefined ? { gecos: n.gecos } : {}),
    district: { firstUid: spec.firstUid, maxUid: spec.maxUid },
    ...(n.cgroupRootName !== undefined ? { cgroup: { rootName: n.cgroupRootName } } : {}),
    ...(n.diskMode !== undefined ? { disk: { mode: n.diskMode } } : {}),
    ...(n.limitsDir !== undefined ? { limitsDir: n.limitsDir } : {}),
    cloudDomain: spec.cloudDomain,
    defaultProfile: spec.profile,
    frontend: {
      confDir: p.nginxConfD,
      nginxConf: p.nginxConf,
      nginxBinary: spec.frontend.nginxBinary,
      prefix: p.nginx,
      pidFile: p.nginxPid,
      reloadCommand: null,
      listen: spec.frontend.listen,
      idleStarter: spec.frontend.idleStarter,
      tls: spec.frontend.tls
        ? {
            listen: spec.frontend.tls.listen,
            certificate: p.tlsCertificate,
            key: p.tlsKey,
            http2: spec.frontend.tls.http2,
          }
        : null,
    },
    network: {
      ...(n.isolation !== undefined ? { isolation: n.isolation } : {}),
      ...(n.networkTable !== undefined ? { table: n.networkTable } : {}),
    },
    // the gear git sshd's port, labelled ssh_port_t by the node's SELinux module (sshd_t binds no other)
    selinux: { gitSshPort: spec.gitSsh.port },
  };
  return resolveConfig(doc);
}

/** node.json: the resolved node config, every key explicit, in the node layer's key order. */
export function renderNodeJson(spec: NodeHostSpec): string {
  return `${JSON.stringify(nodeConfigOf(spec), null, 2)}\n`;
}

/** node.json as the node reads it: parsed and resolved by the node layer's own parser. */
export function parseNodeJson(text: string): NodeConfig {
  return resolveConfig(JSON.parse(text));
}

/** The agent's config document for this node and bus endpoint (validated by the agent's schema). */
export function agentConfigOf(spec: NodeHostSpec, bus: { host: string; port: number }): AgentConfig {
  const p = nodeHostPaths(spec);
  if (typeof bus.host !== "string" || dnsNameProblem(bus.host) !== null)
    throw new ValidationError(
      "bus.host",
      `${JSON.stringify(bus.host)} must be an IPv4 address or a DNS name`,
    );
  const doc: AgentConfig = {
    bus: {
      host: bus.host,
      port: bus.port,
      user: spec.busUser,
      passwordFile: p.agentPassword,
      ...(spec.busTls
        ? {
            tls: {
              caFile: p.busCa,
              ...(spec.busTls.serverName !== undefined ? { serverName: spec.busTls.serverName } : {}),
            },
          }
        : {}),
    },
    node: spec.identity,
    nodeConfig: p.nodeJson,
    district: spec.district,
    profile: spec.profile,
    maxActiveGears: spec.maxActiveGears,
    publicHostname: spec.publicHostname,
    factsIntervalMs: spec.factsIntervalMs,
    concurrency: spec.agentConcurrency,
    journalDir: p.journal,
  };
  try {
    return validateAgentConfig(doc);
  } catch (e) {
    // the agent names its config's fields config.<path>; here they are the NodeHost's args
    if (e instanceof ValidationError && e.field.startsWith("config.bus."))
      throw new ValidationError(e.field.slice("config.".length), e.message.replace(/^invalid \S+: /, ""));
    throw e;
  }
}

/** agent.json: the document of agentConfigOf. */
export function renderAgentJson(spec: NodeHostSpec, bus: { host: string; port: number }): string {
  return `${JSON.stringify(agentConfigOf(spec, bus), null, 2)}\n`;
}

export function renderNginxConf(spec: NodeHostSpec): string {
  return template("nginx.conf.hbs")({ name: spec.name, paths: nodeHostPaths(spec) });
}

/** The frontend's shared file (default server, maps), exactly as node/frontend writes it. */
export function renderFrontendBase(spec: NodeHostSpec): { path: string; content: string } {
  const fe = nodeConfigOf(spec).frontend;
  return { path: `${fe.confDir}/${FRONTEND_BASE_FILE}`, content: renderFrontendBaseConf(fe) };
}

/**
 * The frontend's certificate file (`frontend.crt`, not secret): the chain's certificates only (common/pem.ts).
 * Errors name `frontend.tls.certificate`.
 */
export function renderFrontendCertificate(pem: unknown): string {
  return parseCertificateChain("frontend.tls.certificate", pem).pem;
}

/**
 * The frontend's key file (`frontend.key`, secret): the one PEM private key, which must be the certificate's
 * (nginx would refuse the pair at reload, after the files were written). Errors name `frontend.tls.key` and
 * never quote it.
 */
export function renderFrontendKey(certificatePem: unknown, keyPem: unknown): string {
  return parseKeyPair(
    { certificate: "frontend.tls.certificate", key: "frontend.tls.key" },
    certificatePem,
    keyPem,
  ).pem;
}

export function renderSshdConfig(spec: NodeHostSpec): string {
  return template("sshd_config.hbs")({
    name: spec.name,
    gitSsh: spec.gitSsh,
    paths: nodeHostPaths(spec),
    options: [...GEAR_GIT_SSHD_OPTIONS, ...NODE_SSHD_EXTRA],
  });
}

/** /etc/pam.d/<service> of the node's sshd: the system's sshd stack, then the gear cgroup session hook. */
export function renderPamService(spec: NodeHostSpec): string {
  const p = nodeHostPaths(spec);
  return [
    `# PAM service of the gear git sshd of Geartrain node host '${spec.name}' (components/nodehost); removed`,
    "# on destroy. The system's sshd stack, then gear-pam-attach moves the session into the gear's cgroup.",
    "@include sshd",
    `session required pam_exec.so quiet ${spec.release.node} ${spec.release.entry} node gear-pam-attach --config ${p.nodeJson}`,
    "",
  ].join("\n");
}

/** The node host's daemons, as Service args (without the host and the environment values). */
export function nodeHostServices(
  spec: NodeHostSpec,
): Record<
  "nginx" | "sshd" | "unidler" | "agent",
  Omit<ServiceArgs, "environment"> & { environmentNames: readonly string[] }
> {
  const p = nodeHostPaths(spec);
  const { node, entry } = spec.release;
  const fe = nodeConfigOf(spec).frontend;
  return {
    nginx: {
      name: `${spec.name}-nginx`,
      // the instance arguments node/frontend tests and reloads it with (-p, -c, -g pid), and -e so that
      // not even the startup opens the system nginx's error log
      command: [
        fe.nginxBinary,
        "-p",
        `${fe.prefix}/`,
        "-c",
        fe.nginxConf,
        "-e",
        `${p.nginxLog}/error.log`,
        "-g",
        `pid ${fe.pidFile};`,
      ],
      workingDirectory: p.nginx,
      readiness: { tcp: { address: spec.frontend.address, port: spec.frontend.port } },
      environmentNames: ["GEARTRAIN_CONFIG_SHA256"],
    },
    sshd: {
      name: `${spec.name}-sshd`,
      command: [p.sshdProgram, "-D", "-e", "-f", p.sshdConfig],
      workingDirectory: p.sshd,
      readiness: { tcp: { address: spec.gitSsh.address, port: spec.gitSsh.port } },
      environmentNames: ["GEARTRAIN_CONFIG_SHA256"],
    },
    unidler: {
      name: `${spec.name}-unidler`,
      command: [node, entry, "node", "cartridge", "unidler"],
      readiness: { tcp: { address: spec.frontend.idleAddress, port: spec.frontend.idlePort } },
      environmentNames: ["GEARTRAIN_CONFIG_SHA256", "GEARTRAIN_NODE_CONFIG", "GEARTRAIN_RELEASE"],
    },
    agent: {
      name: `${spec.name}-agent`,
      command: [node, entry, "agent", "run", "--config", p.agentJson],
      stopTimeoutSeconds: 60,
      environmentNames: [
        "GEARTRAIN_CONFIG_SHA256",
        "GEARTRAIN_NODE_CONFIG",
        "GEARTRAIN_RELEASE",
        "GEARTRAIN_SECRET_SHA256",
      ],
    },
  };
}

/**
 * Host preparation, env GT_*: the Debian packages the node needs (a missing one fails naming the fix),
 * the release's programs, then the directories. What this script created outside its own directory is
 * listed in <dir>/created, so that destroy removes exactly that and leaves the rest of the host alone.
 */
export const PREPARE_SCRIPT = [
  "missing=()",
  'need() { [ -x "$1" ] || missing+=("$2"); }',
  'need "$GT_NGINX" nginx',
  'need "$GT_SSHD" openssh-server',
  "need /usr/bin/ssh-keygen openssh-client",
  "need /usr/bin/git git",
  "need /usr/sbin/useradd passwd",
  "need /usr/bin/setpriv util-linux",
  "need /usr/bin/pkill procps",
  "[ -f /etc/pam.d/sshd ] || missing+=(openssh-server)",
  'if [ "${#missing[@]}" -gt 0 ]; then',
  '  pkgs=$(printf "%s\\n" "${missing[@]}" | sort -u | tr "\\n" " ")',
  '  echo "missing Debian packages: ${pkgs% }. Fix: apt-get update && apt-get install -y ${pkgs% }" >&2',
  "  exit 1",
  "fi",
  '[ -x "$GT_NODE" ] || { echo "the release has no Node.js at $GT_NODE (release.node)" >&2; exit 1; }',
  '[ -f "$GT_ENTRY" ] || { echo "the release has no geartrain entry at $GT_ENTRY (release.entry)" >&2; exit 1; }',
  'install -d -m 0755 -- "$GT_DIR"',
  ': >"$GT_DIR/created.new"',
  'for d in "$GT_CONFIG_DIR" "$GT_GEAR_BASE" /run/sshd; do',
  '  if [ ! -d "$d" ]; then install -d -m 0755 -- "$d"; echo "$d" >>"$GT_DIR/created.new"; fi',
  "done",
  // a rerun keeps what the first run created (it is still ours)
  'if [ -f "$GT_DIR/created" ]; then cat "$GT_DIR/created" >>"$GT_DIR/created.new"; fi',
  'sort -u "$GT_DIR/created.new" >"$GT_DIR/created" && rm -f -- "$GT_DIR/created.new"',
  // gear users run the forced command: node.json (0644) must be reachable
  'chmod o+x -- "$GT_CONFIG_DIR"',
  'for sub in nginx nginx/conf.d nginx/log nginx/tmp nginx/run sshd agent; do install -d -m 0755 -- "$GT_DIR/$sub"; done',
  'install -d -m 0700 -- "$GT_DIR/nginx/tls"',
  'chmod 0700 -- "$GT_DIR/agent"',
  'ln -sfn -- "$GT_SSHD" "$GT_SSHD_PROGRAM"',
].join("\n");

/**
 * Destroy: the NodeHost's directory, and what PREPARE_SCRIPT created (listed in <dir>/created) when it is
 * empty by then. A gear base directory that still holds gears is kept, with a warning: gears are removed
 * through the broker, never by destroying their node.
 */
export const UNPREPARE_SCRIPT = [
  'if [ -f "$GT_DIR/created" ]; then',
  "  while IFS= read -r d; do",
  '    [ -n "$d" ] || continue',
  '    if [ "$d" = "$GT_GEAR_BASE" ]; then',
  '      if find "$d" -mindepth 1 -maxdepth 1 -regextype posix-extended -regex ".*/[0-9a-f]{32}" | grep -q .; then',
  '        echo "warning: $d still holds gears; kept" >&2; continue',
  "      fi",
  '      rm -rf -- "$GT_STATE_DIR"',
  "    fi",
  '    rmdir -- "$d" 2>/dev/null || echo "warning: $d is not empty; kept" >&2',
  '  done < <(sort -r "$GT_DIR/created")',
  "fi",
  // no gear left: the gears' netfilter table (nft) or chain (iptables), which the node made with its first gear
  'if ! find "$GT_GEAR_BASE" -mindepth 1 -maxdepth 1 -regextype posix-extended -regex ".*/[0-9a-f]{32}" 2>/dev/null | grep -q .; then',
  '  if command -v nft >/dev/null && nft list table inet "$GT_NETWORK_TABLE" >/dev/null 2>&1; then',
  '    nft delete table inet "$GT_NETWORK_TABLE"',
  "  fi",
  '  if command -v iptables >/dev/null && iptables -w -n -L "$GT_NETWORK_CHAIN" >/dev/null 2>&1; then',
  '    while iptables -w -D OUTPUT -j "$GT_NETWORK_CHAIN" 2>/dev/null; do :; done',
  '    iptables -w -F "$GT_NETWORK_CHAIN" && iptables -w -X "$GT_NETWORK_CHAIN"',
  "  fi",
  "fi",
  'rm -rf -- "$GT_DIR"',
].join("\n");

/** Generates the sshd host key once (kept across updates), prints its public half ("type base64"). */
export const HOST_KEY_SCRIPT = [
  'if [ ! -f "$GT_KEY" ]; then',
  '  rm -f -- "$GT_KEY.pub"',
  '  ssh-keygen -q -t ed25519 -N "" -C "$GT_COMMENT" -f "$GT_KEY" </dev/null >/dev/null',
  "fi",
  'chmod 0600 -- "$GT_KEY"',
  'cut -d " " -f 1,2 -- "$GT_KEY.pub"',
].join("\n");

export const REMOVE_HOST_KEY_SCRIPT = 'rm -f -- "$GT_KEY" "$GT_KEY.pub"';

/** Adds the release's cartridges to the node's repository (idempotent); env GT_*, GEARTRAIN_NODE_CONFIG. */
export const CARTRIDGES_SCRIPT = [
  "for c in $GT_CARTRIDGES; do",
  '  [ -f "$GT_SRC/$c/metadata/manifest.yml" ] || { echo "no cartridge $c in $GT_SRC (cartridgeDirectory)" >&2; exit 1; }',
  '  "$GT_NODE" "$GT_ENTRY" node cartridge repo add "$GT_SRC/$c" >/dev/null',
  "done",
  '"$GT_NODE" "$GT_ENTRY" node cartridge repo list',
].join("\n");

export const REMOVE_CARTRIDGES_SCRIPT = 'rm -rf -- "$GT_STATE_DIR/cartridges"';

/**
 * SELinux: where the host has it enabled, the node's gear policy module (node/host/selinux, `geartrain node
 * selinux install`, which needs selinux-policy-dev); elsewhere nothing to do.
 */
export const SELINUX_SCRIPT = [
  "if [ -f /sys/fs/selinux/enforce ]; then",
  '  [ -f /usr/share/selinux/devel/Makefile ] || { echo "SELinux is enabled but selinux-policy-dev is missing. Fix: apt-get install -y selinux-policy-dev policycoreutils semodule-utils" >&2; exit 1; }',
  '  "$GT_NODE" "$GT_ENTRY" node selinux install >/dev/null',
  '  echo "SELinux: gear policy module installed"',
  "else",
  '  echo "SELinux: not enabled on this host; no policy module"',
  "fi",
].join("\n");

export const REMOVE_SELINUX_SCRIPT = [
  "if [ -f /sys/fs/selinux/enforce ] && command -v semodule >/dev/null; then",
  "  for m in geartrain_nodes geartrain; do",
  '    if semodule -l | grep -qx "$m"; then semodule -r "$m"; fi',
  "  done",
  "fi",
].join("\n");

/**
 * `geartrain node frontend sync`: every gear's nginx file rendered again under the current node.json (TLS
 * turned on or off, another listen) and nginx reloaded, all or nothing. Run after nginx is up.
 */
export const FRONTEND_SYNC_SCRIPT = '"$GT_NODE" "$GT_ENTRY" node frontend sync';

/** `geartrain node check` once everything runs: fails the up with the failed checks (cgroups, nginx -t, ...). */
export const CHECK_SCRIPT = [
  'if ! out=$("$GT_NODE" "$GT_ENTRY" node check); then',
  '  echo "geartrain node check failed on this host:" >&2',
  '  printf "%s\\n" "$out" >&2',
  "  exit 1",
  "fi",
  'printf "%s\\n" "$out"',
].join("\n");
