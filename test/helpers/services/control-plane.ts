// The whole control plane with real services, for the integration tests and bench/app-create.ts alike:
// PostgreSQL, BIND (a zone for the cloud domain, TSIG key), ActiveMQ, a real node (makeCartridgeNode: private
// nginx, the shipped cartridges) with its agent, and broker processes (`geartrain broker run --config F`, the
// real services/broker/main.ts), each from a config file whose secrets are in 0600 files of a 0700 directory.
// The set-up then makes district d1 (the node's UID block), adds the node once its facts arrive, and makes one
// developer with a domain. The agent runs in this process (a test can stop and restart it) or as a process
// of its own (`geartrain agent run`, so a benchmark can read its RSS). With `secondNode`, a second node on
// this machine joins a second district d2 of another profile (default medium): its own name (so its own
// cgroup names, netfilter table, agent bus user and public hostname), private nginx, gear base, UID block
// and agent, as a second node host would. stop() takes everything down.
//
// Children run the sources (`node -r test/helpers/register-ts.js run-cli.ts …`) when this module is the
// TypeScript one, and bin/geartrain (dist/) when it runs from the build.

import { spawn, type ChildProcess } from "child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { Agent } from "../../../services/agent/agent";
import { makeCartridgeNode, type CartridgeTestNode } from "../../node/cartridge-helpers";
import { REPO_ROOT } from "../repo-root";
import { startActiveMQ, type PrivateActiveMQ } from "./activemq";
import { startBind, type PrivateBind } from "./bind";
import type { GearProfile } from "../../../common/profiles";
import { api } from "./broker";
import { startPostgres, type TestPostgres } from "./postgres";

export const CLOUD_ZONE = "apps.geartrain.test";

export const basicAuth = (login: string, password: string): string =>
  `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`;

export interface BrokerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  /** its stderr so far, chunk by chunk */
  readonly log: string[];
}

export interface ControlPlaneOptions {
  /** the node's name (also the ActiveMQ instance's); its public hostname is `<node>.<zone>` */
  readonly node: string;
  /** the node's UID block (docs/node-operations.md) and district d1's first UID */
  readonly uidBase: number;
  /** district d1's capacity (default 100) */
  readonly capacity?: number;
  /** brokers started by the set-up (default ["b1"]) */
  readonly brokers?: readonly string[];
  /** extra config keys of broker `name` (merged over the defaults below) */
  readonly brokerConfig?: (name: string) => Record<string, unknown>;
  /** "process": the agent runs as `geartrain agent run` (default: in this process) */
  readonly agent?: "in-process" | "process";
  /** requests the agent runs at once (default 4) */
  readonly agentConcurrency?: number;
  /** extra node config keys (merged into makeCartridgeNode's) */
  readonly nodeConfig?: Record<string, unknown>;
  readonly adminPassword: string;
  /** the developer made by the set-up, with one domain */
  readonly developer: { readonly login: string; readonly password: string; readonly domain: string };
  /** a second node, alone in district d2 (made by the set-up, its agent run like the first's) */
  readonly secondNode?: SecondNodeOptions;
}

export interface SecondNodeOptions {
  /** its name, other than the first's */
  readonly node: string;
  /** its UID block and district d2's first UID: outside d1's (uidBase … uidBase + capacity - 1) */
  readonly uidBase: number;
  /** district d2's capacity (default 100) */
  readonly capacity?: number;
  /** district d2's gear profile, which the node reports (default medium) */
  readonly profile?: GearProfile;
  /** extra node config keys of this node (merged into makeCartridgeNode's) */
  readonly nodeConfig?: Record<string, unknown>;
}

/** The second node of a control plane, in district d2. */
export interface SecondNode {
  readonly nodeName: string;
  readonly nodeHost: string;
  readonly district: "d2";
  readonly profile: GearProfile;
  readonly node: CartridgeTestNode;
  /** what its agent logged (in-process) or its stderr (process) */
  readonly agentLog: string[];
}

export interface ControlPlane {
  readonly zone: string;
  readonly nodeName: string;
  readonly nodeHost: string;
  readonly pg: TestPostgres;
  readonly bind: PrivateBind;
  readonly amq: PrivateActiveMQ;
  readonly node: CartridgeTestNode;
  /** the second node (options.secondNode), null without one */
  readonly second: SecondNode | null;
  /** every broker started so far, in order (killed ones too) */
  readonly brokers: BrokerProcess[];
  /** Basic auth headers of the admin and of the developer */
  readonly admin: string;
  readonly developer: string;
  /** every line the (first node's) agent logged (in-process) or its stderr (process) */
  readonly agentLog: string[];
  brokerUrls(): string[];
  startBroker(name: string, extra?: Record<string, unknown>): Promise<BrokerProcess>;
  killBroker(b: BrokerProcess, signal: NodeJS.Signals): Promise<void>;
  /** start and stop the first node's agent (the second's runs from the set-up to stop()) */
  startAgent(): Promise<void>;
  stopAgent(): Promise<void>;
  /** the first node's agent process's pid ("process" agents only) */
  agentPid(): number | undefined;
  sql<R>(text: string, values?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

/** Poll `fn` every 200 ms until it returns something truthy; throws naming `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** argv (after node itself) that runs `geartrain <args>` from the sources or from dist/. */
function cliArgv(args: string[]): string[] {
  if (path.extname(__filename) === ".ts")
    return [
      "-r",
      path.join(REPO_ROOT, "test/helpers/register-ts.js"),
      path.join(__dirname, "run-cli.ts"),
      ...args,
    ];
  return [path.join(REPO_ROOT, "bin/geartrain"), ...args];
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (exited(child)) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** One node's agent: what it is told about its node, and how it runs. */
interface AgentSpec {
  readonly node: () => CartridgeTestNode;
  readonly facts: {
    readonly node: string;
    readonly district: string;
    readonly profile: GearProfile;
    readonly maxActiveGears: number;
    readonly publicHostname: string;
  };
  readonly log: string[];
}

/** A running agent (in this process or a child), stopped by stop(). */
interface RunningAgent {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const zone = CLOUD_ZONE;
  const nodeName = opts.node;
  const nodeHost = `${nodeName}.${zone}`;
  const brokers: BrokerProcess[] = [];
  const agentLog: string[] = [];
  const admin = basicAuth("admin", opts.adminPassword);
  const developer = basicAuth(opts.developer.login, opts.developer.password);
  const two = opts.secondNode;
  if (two && two.node === nodeName) throw new Error(`secondNode.node must differ from node (${nodeName})`);
  let pg: TestPostgres | undefined;
  let bind: PrivateBind | undefined;
  let amq: PrivateActiveMQ | undefined;
  let node: CartridgeTestNode | undefined;
  let node2: CartridgeTestNode | undefined;
  let secrets: string | undefined;
  let agent: RunningAgent | null = null;
  let agent2: RunningAgent | null = null;

  const first: AgentSpec = {
    node: () => node!,
    facts: {
      node: nodeName,
      district: "d1",
      profile: "small",
      maxActiveGears: opts.capacity ?? 100,
      publicHostname: nodeHost,
    },
    log: agentLog,
  };
  const second: AgentSpec | null = two
    ? {
        node: () => node2!,
        facts: {
          node: two.node,
          district: "d2",
          profile: two.profile ?? "medium",
          maxActiveGears: two.capacity ?? 100,
          publicHostname: `${two.node}.${zone}`,
        },
        log: [],
      }
    : null;

  async function runAgent(spec: AgentSpec): Promise<RunningAgent> {
    const name = spec.facts.node;
    const a = amq!.agents[name];
    const concurrency = opts.agentConcurrency ?? 4;
    if (opts.agent === "process") {
      // the first node's files keep their old names; another node's are named after it
      const base = name === nodeName ? "agent" : `agent-${name}`;
      const file = path.join(secrets!, `${base}.json`);
      const passwordFile = path.join(secrets!, `${base}.password`);
      writeFileSync(passwordFile, a.password, { mode: 0o600 });
      const doc = {
        bus: { host: amq!.host, port: amq!.port, user: a.user, passwordFile },
        nodeConfig: spec.node().configPath,
        ...spec.facts,
        factsIntervalMs: 500,
        concurrency,
        maxReconnectDelayMs: 1000,
      };
      writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
      const child = spawn(process.execPath, cliArgv(["agent", "run", "--config", file]), {
        cwd: REPO_ROOT,
        stdio: ["ignore", "ignore", "pipe"],
      });
      child.stderr!.on("data", (d) => void spec.log.push(String(d)));
      return { pid: child.pid, stop: () => killChild(child, "SIGTERM") };
    }
    const inProcess = new Agent({
      bus: { host: amq!.host, port: amq!.port, user: a.user, password: a.password },
      ctx: spec.node().ctx,
      facts: spec.facts,
      factsIntervalMs: 500,
      concurrency,
      reconnectDelayMs: 200,
      maxReconnectDelayMs: 1000,
      log: (level, message) => void spec.log.push(`${level} ${message}`),
    });
    inProcess.start();
    return { pid: undefined, stop: () => inProcess.stop() };
  }

  async function startAgent(): Promise<void> {
    agent = await runAgent(first);
  }

  async function stopAgent(): Promise<void> {
    await agent?.stop();
    agent = null;
  }

  function writeConfig(name: string, extra: Record<string, unknown>): string {
    const file = path.join(secrets!, `${name}.json`);
    const doc = {
      listen: { host: "127.0.0.1", port: 0 },
      cloudDomain: zone,
      brokerId: name,
      database: { ...pg!.connection, password: undefined, passwordFile: path.join(secrets!, "db.password") },
      bus: {
        host: amq!.host,
        port: amq!.port,
        user: amq!.broker.user,
        passwordFile: path.join(secrets!, "bus.password"),
      },
      dns: { server: bind!.server, port: bind!.port, zone, keyFile: path.join(secrets!, "tsig.key") },
      admin: { login: "admin", passwordFile: path.join(secrets!, "admin.password") },
      nodeTimeoutMs: 180_000,
      cartridgeTimeoutMs: 120_000,
      silenceMs: 600_000,
      leaseMs: 3000,
      ...opts.brokerConfig?.(name),
      ...extra,
    };
    writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
    return file;
  }

  /** Starts a broker process; resolves once it prints where it listens. */
  function startBroker(name: string, extra: Record<string, unknown> = {}): Promise<BrokerProcess> {
    const child = spawn(process.execPath, cliArgv(["broker", "run", "--config", writeConfig(name, extra)]), {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log: string[] = [];
    child.stderr!.on("data", (d) => log.push(String(d)));
    return new Promise((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
        const line = out.split("\n").find((l) => l.startsWith('{"listening"'));
        if (line && !brokers.some((b) => b.child === child)) {
          const b = { name, child, url: (JSON.parse(line) as { listening: string }).listening, log };
          brokers.push(b);
          resolve(b);
        }
      });
      child.once("exit", (code, signal) =>
        reject(new Error(`broker ${name} exited ${code ?? signal}: ${log.join("")}`)),
      );
    });
  }

  async function sql<R>(text: string, values: unknown[] = []): Promise<R[]> {
    const { Client } = await import("pg");
    const c = new Client(pg!.connection);
    await c.connect();
    try {
      return (await c.query(text, values)).rows as R[];
    } finally {
      await c.end();
    }
  }

  async function stop(): Promise<void> {
    for (const b of brokers) await killChild(b.child, "SIGTERM");
    await stopAgent();
    await agent2?.stop();
    agent2 = null;
    try {
      await node2?.cleanup();
    } finally {
      await node?.cleanup();
    }
    await amq?.stop();
    await bind?.stop();
    await pg?.stop();
    if (secrets) rmSync(secrets, { recursive: true, force: true });
  }

  const must = (what: string, r: { status: number; body: Record<string, unknown> }, status: number) => {
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body?.messages)}`);
  };

  try {
    pg = await startPostgres();
    bind = await startBind({ zone });
    amq = await startActiveMQ({ nodes: [nodeName, ...(two ? [two.node] : [])], name: `cp-${nodeName}` });
    node = await makeCartridgeNode(nodeName, opts.uidBase, {
      config: { cloudDomain: zone, ...opts.nodeConfig },
    });
    // its name gives it cgroup names and a netfilter table of its own; makeCartridgeNode gives it its own
    // directory (gear base, state, PAM limits) and nginx on a free port
    if (two)
      node2 = await makeCartridgeNode(two.node, two.uidBase, {
        config: { cloudDomain: zone, ...two.nodeConfig },
      });
    secrets = mkdtempSync(path.join(os.tmpdir(), "gt-broker-secrets-"));
    chmodSync(secrets, 0o700);
    writeFileSync(path.join(secrets, "db.password"), pg.connection.password, { mode: 0o600 });
    writeFileSync(path.join(secrets, "bus.password"), amq.broker.password, { mode: 0o600 });
    writeFileSync(path.join(secrets, "admin.password"), opts.adminPassword, { mode: 0o600 });
    copyFileSync(bind.keyFile, path.join(secrets, "tsig.key"));
    chmodSync(path.join(secrets, "tsig.key"), 0o600);
    await startAgent();
    if (second) agent2 = await runAgent(second);
    for (const name of opts.brokers ?? ["b1"]) await startBroker(name);
    const b1 = brokers[0];
    const districts = [
      { spec: first, firstUid: opts.uidBase },
      ...(second ? [{ spec: second, firstUid: two!.uidBase }] : []),
    ];
    for (const { spec, firstUid } of districts) {
      const { district, profile, maxActiveGears, node: name } = spec.facts;
      must(
        `create district ${district}`,
        await api(b1, "POST", "/admin/districts", admin, {
          name: district,
          gear_profile: profile,
          first_uid: firstUid,
          capacity: maxActiveGears,
        }),
        201,
      );
      await waitFor(`the facts of node ${name}`, async () =>
        (await api(b1, "GET", "/admin/nodes", admin)).body.data.some(
          (n: { name: string }) => n.name === name,
        ),
      );
      must(
        `add node ${name} to ${district}`,
        await api(b1, "POST", `/admin/district/${district}/nodes`, admin, { node: name }),
        200,
      );
    }
    const dev = opts.developer;
    must(
      `create user ${dev.login}`,
      await api(b1, "POST", "/admin/users", admin, {
        login: dev.login,
        password: dev.password,
        max_gears: opts.capacity ?? 100,
      }),
      201,
    );
    must(
      `create domain ${dev.domain}`,
      await api(b1, "POST", "/domains", developer, { id: dev.domain }),
      201,
    );
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }

  return {
    zone,
    nodeName,
    nodeHost,
    pg,
    bind,
    amq,
    node,
    second:
      second && node2
        ? {
            nodeName: second.facts.node,
            nodeHost: second.facts.publicHostname,
            district: "d2",
            profile: second.facts.profile,
            node: node2,
            agentLog: second.log,
          }
        : null,
    brokers,
    admin,
    developer,
    agentLog,
    brokerUrls: () => brokers.filter((b) => !exited(b.child)).map((b) => b.url),
    startBroker,
    killBroker: (b, signal) => killChild(b.child, signal),
    startAgent,
    stopAgent,
    agentPid: () => agent?.pid,
    sql,
    stop,
  };
}
