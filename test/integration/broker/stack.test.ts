// The whole control plane with real services: broker processes (services/broker/main.ts from a config file),
// PostgreSQL, ActiveMQ, BIND, a node agent running the real node operations (private nginx). Create over REST →
// the page through nginx by Host and the DNS record; a stopped agent fails the create within the node timeout
// with a clear error and no leaked UID; a broker SIGKILLed mid-create → another broker completes or undoes
// the chain; two brokers creating 50 applications at once in one district → 50 distinct UIDs. UIDs
// 64700-64799 (docs/node-operations.md).

import { spawn, type ChildProcess } from "child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { inspectGear, listGears } from "../../../node";
import { Agent } from "../../../services/agent/agent";
import { makeCartridgeNode, type CartridgeTestNode } from "../../node/cartridge-helpers";
import { startActiveMQ, type PrivateActiveMQ } from "../../helpers/services/activemq";
import { dig, startBind, type PrivateBind } from "../../helpers/services/bind";
import { api } from "../../helpers/services/broker";
import { startPostgres, type TestPostgres } from "../../helpers/services/postgres";

jest.setTimeout(1_200_000);

const REPO = path.resolve(__dirname, "../../..");
const ZONE = "apps.geartrain.test";
const NODE = "bstack";
const NODE_HOST = `${NODE}.${ZONE}`;
const ADMIN_PW = "admin-secret-Pw-7001";
const ALICE_PW = "alice-secret-Pw-7002";
const basic = (l: string, p: string) => `Basic ${Buffer.from(`${l}:${p}`).toString("base64")}`;
const root = basic("admin", ADMIN_PW);
const alice = basic("alice", ALICE_PW);

let pg: TestPostgres;
let bind: PrivateBind;
let amq: PrivateActiveMQ;
let node: CartridgeTestNode;
let agent: Agent | null = null;
let secrets: string;
const brokers: { child: ChildProcess; url: string; log: string[] }[] = [];
const agentLog: string[] = [];

function startAgent(): void {
  const a = amq.agents[NODE];
  agent = new Agent({
    bus: { host: amq.host, port: amq.port, user: a.user, password: a.password },
    ctx: node.ctx,
    facts: { node: NODE, district: "d1", profile: "small", maxActiveGears: 100, publicHostname: NODE_HOST },
    factsIntervalMs: 500,
    concurrency: 4,
    reconnectDelayMs: 200,
    maxReconnectDelayMs: 1000,
    log: (level, message) => void agentLog.push(`${level} ${message}`),
  });
  agent.start();
}

function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(secrets, `${name}.json`);
  const doc = {
    listen: { host: "127.0.0.1", port: 0 },
    cloudDomain: ZONE,
    brokerId: name,
    database: { ...pg.connection, password: undefined, passwordFile: path.join(secrets, "db.password") },
    bus: {
      host: amq.host,
      port: amq.port,
      user: amq.broker.user,
      passwordFile: path.join(secrets, "bus.password"),
    },
    dns: { server: bind.server, port: bind.port, zone: ZONE, keyFile: path.join(secrets, "tsig.key") },
    admin: { login: "admin", passwordFile: path.join(secrets, "admin.password") },
    // b1 (the stopped-agent test) waits 5 s; later brokers serve 50 creates queued on one agent
    nodeTimeoutMs: name === "b1" ? 5000 : 180_000,
    cartridgeTimeoutMs: 120_000,
    silenceMs: 600_000,
    leaseMs: 3000,
    ...extra,
  };
  writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
  return file;
}

/** Starts a broker process; resolves once it prints where it listens. */
function spawnBroker(name: string): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  const child = spawn(
    process.execPath,
    [
      "-r",
      path.join(REPO, "test/helpers/register-ts.js"),
      path.join(__dirname, "run-broker.ts"),
      writeConfig(name),
    ],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  const log: string[] = [];
  child.stderr!.on("data", (d) => log.push(String(d)));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith('{"listening"'));
      if (line) {
        const b = { child, url: (JSON.parse(line) as { listening: string }).listening, log };
        brokers.push(b);
        resolve(b);
      }
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`broker ${name} exited ${code ?? signal}: ${log.join("")}`)),
    );
  });
}

function kill(b: { child: ChildProcess }, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (b.child.exitCode !== null || b.child.signalCode !== null) return resolve();
    b.child.once("exit", () => resolve());
    b.child.kill(signal);
  });
}

async function waitFor<T>(
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

async function sql<R>(text: string, values: unknown[] = []): Promise<R[]> {
  const { Client } = await import("pg");
  const c = new Client(pg.connection);
  await c.connect();
  try {
    return (await c.query(text, values)).rows as R[];
  } finally {
    await c.end();
  }
}

async function available(b: { url: string }): Promise<number> {
  return (await api(b, "GET", "/admin/district/d1", root)).body.data.available_capacity;
}

beforeAll(async () => {
  pg = await startPostgres();
  bind = await startBind({ zone: ZONE });
  amq = await startActiveMQ({ nodes: [NODE], name: "brokerstack" });
  node = await makeCartridgeNode(NODE, 64700, { config: { cloudDomain: ZONE } });
  secrets = mkdtempSync(path.join(os.tmpdir(), "gt-broker-secrets-"));
  chmodSync(secrets, 0o700);
  writeFileSync(path.join(secrets, "db.password"), pg.connection.password, { mode: 0o600 });
  writeFileSync(path.join(secrets, "bus.password"), amq.broker.password, { mode: 0o600 });
  writeFileSync(path.join(secrets, "admin.password"), ADMIN_PW, { mode: 0o600 });
  copyFileSync(bind.keyFile, path.join(secrets, "tsig.key"));
  chmodSync(path.join(secrets, "tsig.key"), 0o600);
  startAgent();
  const b1 = await spawnBroker("b1");
  expect(
    (
      await api(b1, "POST", "/admin/districts", root, {
        name: "d1",
        gear_profile: "small",
        first_uid: 64700,
        capacity: 100,
      })
    ).status,
  ).toBe(201);
  await waitFor("the node's facts", async () =>
    (await api(b1, "GET", "/admin/nodes", root)).body.data.some((n: { name: string }) => n.name === NODE),
  );
  expect((await api(b1, "POST", "/admin/district/d1/nodes", root, { node: NODE })).status).toBe(200);
  expect(
    (await api(b1, "POST", "/admin/users", root, { login: "alice", password: ALICE_PW, max_gears: 100 }))
      .status,
  ).toBe(201);
  expect((await api(b1, "POST", "/domains", alice, { id: "ns1" })).status).toBe(201);
});

afterAll(async () => {
  for (const b of brokers) await kill(b, "SIGTERM");
  await agent?.stop();
  await node?.cleanup();
  await amq?.stop();
  await bind?.stop();
  await pg?.stop();
  if (secrets) rmSync(secrets, { recursive: true, force: true });
});

test("create over REST through the bus: the node has the gear, DNS answers, nginx serves the page", async () => {
  const b1 = brokers[0];
  const node1 = (await api(b1, "GET", `/admin/node/${NODE}`, root)).body.data;
  expect(node1).toMatchObject({ district: "d1", active: true, responsive: true, profile: "small" });
  expect(node1.cartridges).toEqual(expect.arrayContaining(["nodejs-20", "postgresql-15", "static-1.0"]));
  const r = await api(b1, "POST", "/domain/ns1/applications", alice, {
    name: "web1",
    cartridges: ["nodejs-20"],
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body.messages));
  const g = await inspectGear(node.ctx, r.body.data.id);
  expect([g.phase, g.drift]).toEqual(["created", []]);
  expect(await dig(bind, `web1-ns1.${ZONE}`, "CNAME")).toEqual([`${NODE_HOST}.`]);
  const page = await node.viaNginx(`web1-ns1.${ZONE}`);
  expect([page.status, page.body]).toEqual([200, expect.stringMatching(/Welcome to web1/)]);
  // the node's real state as the admin API reports it (what `geartrain check` compares)
  const actual = await api(b1, "GET", `/admin/node/${NODE}/gears`, root);
  expect(actual.body.data.gears.map((x: { uuid: string }) => x.uuid)).toContain(r.body.data.id);
});

test("agent stopped: the create fails within the node timeout with a clear error, no UID leaked", async () => {
  const b1 = brokers[0];
  const before = await available(b1);
  await agent!.stop();
  agent = null;
  try {
    const r = await api(b1, "POST", "/domain/ns1/applications", alice, {
      name: "down1",
      cartridges: ["static-1.0"],
    });
    expect(r.status).toBe(503);
    expect(r.body.messages[0].text).toMatch(
      new RegExp(`node ${NODE} did not answer gear\\.create within 5000 ms`),
    );
  } finally {
    startAgent();
  }
  expect(await available(b1)).toBe(before);
  expect((await api(b1, "GET", "/domain/ns1/application/down1", alice)).status).toBe(404);
  // the agent back: the next request works, and the expired create never ran late
  const ok = await api(b1, "POST", "/domain/ns1/applications", alice, {
    name: "up1",
    cartridges: ["static-1.0"],
  });
  expect(ok.status).toBe(201);
  const gearsNow = (await listGears(node.ctx)).map((x) => x.app);
  expect(gearsNow).not.toContain("down1");
});

test("broker SIGKILLed mid-create: another broker finishes the chain (done or undone), nothing half-made", async () => {
  const b1 = brokers[0];
  const before = await available(b1);
  const pending = api(b1, "POST", "/domain/ns1/applications", alice, {
    name: "crash1",
    cartridges: ["nodejs-20"],
  }).catch((e: Error) => e);
  const op = await waitFor("the create to reach its cartridge install", async () => {
    const rows = await sql<{ id: string; steps: { name: string; state: string }[] }>(
      "SELECT id, steps FROM pending_ops WHERE kind = 'app.create' AND state = 'running'",
    );
    return rows.find((o) => o.steps.some((s) => s.name.startsWith("cartridge:") && s.state === "started"));
  });
  await kill(b1, "SIGKILL");
  // the client's connection died with the broker (fetch's error is of another realm: no instanceof)
  expect(String(await pending)).toMatch(/fetch failed|socket|ECONNRESET/i);
  const b2 = await spawnBroker("b2");
  const final = await waitFor(
    "the resumed chain to finish",
    async () => {
      const [row] = await sql<{ state: string }>("SELECT state FROM pending_ops WHERE id = $1", [op.id]);
      return row.state === "done" || row.state === "failed" ? row.state : null;
    },
    300_000,
  );
  const shown = await api(b2, "GET", "/domain/ns1/application/crash1", alice);
  const onNode = (await listGears(node.ctx)).some((x) => x.app === "crash1");
  if (final === "done") {
    expect([shown.status, onNode]).toEqual([200, true]);
    expect(await available(b2)).toBe(before - 1);
    expect((await node.viaNginx(`crash1-ns1.${ZONE}`)).status).toBe(200);
  } else {
    expect([shown.status, onNode]).toEqual([404, false]);
    expect(await available(b2)).toBe(before);
  }
});

test("two brokers create 50 applications at once in one district: 50 distinct UIDs", async () => {
  const live = brokers.filter((b) => b.child.exitCode === null && b.child.signalCode === null);
  while (live.length < 2) live.push(await spawnBroker(`b${brokers.length + 1}`));
  const before = await available(live[0]);
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      api(live[i % 2], "POST", "/domain/ns1/applications", alice, {
        name: `many${i}`,
        cartridges: ["static-1.0"],
      }),
    ),
  );
  const failed = results.filter((r) => r.status !== 201).map((r) => r.body.messages);
  expect(failed).toEqual([]);
  const uids = await sql<{ uid: number }>(
    "SELECT g.uid FROM gears g JOIN applications a ON a.id = g.app_id WHERE a.name LIKE 'many%'",
  );
  expect(new Set(uids.map((u) => u.uid)).size).toBe(50);
  expect(await available(live[0])).toBe(before - 50);
  const onNode = (await listGears(node.ctx)).filter((g) => g.app?.startsWith("many"));
  expect(new Set(onNode.map((g) => g.uid)).size).toBe(50);
});

test("no password or token in any broker's log line", async () => {
  const logs = brokers.map((b) => b.log.join("")).join("") + agentLog.join("\n");
  expect(logs.length).toBeGreaterThan(1000);
  for (const s of [ADMIN_PW, ALICE_PW, pg.connection.password, ...amq.secrets, bind.key().secret])
    expect(logs).not.toContain(s);
});
