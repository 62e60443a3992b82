// The whole control plane with real services, for the integration tests and bench/app-create.ts alike:
// PostgreSQL, BIND (a zone for the cloud domain, TSIG key), ActiveMQ, a real node (makeCartridgeNode: private
// nginx, the shipped cartridges) with its agent, and broker processes (`geartrain broker run --config F`, the
// real services/broker/main.ts), each from a config file whose secrets are in 0600 files of a 0700 directory.
// The set-up then makes district d1 (the node's UID block), adds the node once its facts arrive, and makes one
// developer with a domain. The agent runs in this process (a test can stop and restart it) or as a process
// of its own (`geartrain agent run`, so a benchmark can read its RSS). stop() takes everything down.
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
}

export interface ControlPlane {
  readonly zone: string;
  readonly nodeName: string;
  readonly nodeHost: string;
  readonly pg: TestPostgres;
  readonly bind: PrivateBind;
  readonly amq: PrivateActiveMQ;
  readonly node: CartridgeTestNode;
  /** every broker started so far, in order (killed ones too) */
  readonly brokers: BrokerProcess[];
  /** Basic auth headers of the admin and of the developer */
  readonly admin: string;
  readonly developer: string;
  /** every line the agent logged (in-process) or its stderr (process) */
  readonly agentLog: string[];
  brokerUrls(): string[];
  startBroker(name: string, extra?: Record<string, unknown>): Promise<BrokerProcess>;
  killBroker(b: BrokerProcess, signal: NodeJS.Signals): Promise<void>;
  startAgent(): Promise<void>;
  stopAgent(): Promise<void>;
  /** the agent process's pid ("process" agents only) */
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

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const zone = CLOUD_ZONE;
  const nodeName = opts.node;
  const nodeHost = `${nodeName}.${zone}`;
  const brokers: BrokerProcess[] = [];
  const agentLog: string[] = [];
  const admin = basicAuth("admin", opts.adminPassword);
  const developer = basicAuth(opts.developer.login, opts.developer.password);
  let pg: TestPostgres | undefined;
  let bind: PrivateBind | undefined;
  let amq: PrivateActiveMQ | undefined;
  let node: CartridgeTestNode | undefined;
  let secrets: string | undefined;
  let agent: Agent | null = null;
  let agentChild: ChildProcess | null = null;

  const facts = {
    node: nodeName,
    district: "d1",
    profile: "small",
    maxActiveGears: opts.capacity ?? 100,
    publicHostname: nodeHost,
  };

  async function startAgent(): Promise<void> {
    const a = amq!.agents[nodeName];
    const concurrency = opts.agentConcurrency ?? 4;
    if (opts.agent === "process") {
      const file = path.join(secrets!, "agent.json");
      writeFileSync(path.join(secrets!, "agent.password"), a.password, { mode: 0o600 });
      const doc = {
        bus: {
          host: amq!.host,
          port: amq!.port,
          user: a.user,
          passwordFile: path.join(secrets!, "agent.password"),
        },
        nodeConfig: node!.configPath,
        ...facts,
        factsIntervalMs: 500,
        concurrency,
        maxReconnectDelayMs: 1000,
      };
      writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
      const child = spawn(process.execPath, cliArgv(["agent", "run", "--config", file]), {
        cwd: REPO_ROOT,
        stdio: ["ignore", "ignore", "pipe"],
      });
      child.stderr!.on("data", (d) => void agentLog.push(String(d)));
      agentChild = child;
      return;
    }
    agent = new Agent({
      bus: { host: amq!.host, port: amq!.port, user: a.user, password: a.password },
      ctx: node!.ctx,
      facts,
      factsIntervalMs: 500,
      concurrency,
      reconnectDelayMs: 200,
      maxReconnectDelayMs: 1000,
      log: (level, message) => void agentLog.push(`${level} ${message}`),
    });
    agent.start();
  }

  async function stopAgent(): Promise<void> {
    if (agentChild) await killChild(agentChild, "SIGTERM");
    agentChild = null;
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
    await node?.cleanup();
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
    amq = await startActiveMQ({ nodes: [nodeName], name: `cp-${nodeName}` });
    node = await makeCartridgeNode(nodeName, opts.uidBase, {
      config: { cloudDomain: zone, ...opts.nodeConfig },
    });
    secrets = mkdtempSync(path.join(os.tmpdir(), "gt-broker-secrets-"));
    chmodSync(secrets, 0o700);
    writeFileSync(path.join(secrets, "db.password"), pg.connection.password, { mode: 0o600 });
    writeFileSync(path.join(secrets, "bus.password"), amq.broker.password, { mode: 0o600 });
    writeFileSync(path.join(secrets, "admin.password"), opts.adminPassword, { mode: 0o600 });
    copyFileSync(bind.keyFile, path.join(secrets, "tsig.key"));
    chmodSync(path.join(secrets, "tsig.key"), 0o600);
    await startAgent();
    for (const name of opts.brokers ?? ["b1"]) await startBroker(name);
    const b1 = brokers[0];
    must(
      "create district d1",
      await api(b1, "POST", "/admin/districts", admin, {
        name: "d1",
        gear_profile: "small",
        first_uid: opts.uidBase,
        capacity: opts.capacity ?? 100,
      }),
      201,
    );
    await waitFor("the node's facts", async () =>
      (await api(b1, "GET", "/admin/nodes", admin)).body.data.some(
        (n: { name: string }) => n.name === nodeName,
      ),
    );
    must(
      "add the node to d1",
      await api(b1, "POST", "/admin/district/d1/nodes", admin, { node: nodeName }),
      200,
    );
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
    brokers,
    admin,
    developer,
    agentLog,
    brokerUrls: () => brokers.filter((b) => !exited(b.child)).map((b) => b.url),
    startBroker,
    killBroker: (b, signal) => killChild(b.child, signal),
    startAgent,
    stopAgent,
    agentPid: () => agentChild?.pid,
    sql,
    stop,
  };
}
