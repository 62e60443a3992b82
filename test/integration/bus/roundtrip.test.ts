// The message bus against a real private ActiveMQ, with a real agent running real node operations as root
// (a test node of its own, UIDs 64400-64499): round trips, errors by kind, idempotency of redelivered and
// resent requests, expiry, a stopped agent, authorization between nodes, facts and responsiveness, and no
// password in any log line.

import { randomUUID } from "crypto";
import { statSync, writeFileSync } from "fs";
import * as path from "path";
import { makeTestNode, newUuid, traces, type TestNode } from "../../node/helpers";
import { startActiveMQ, type PrivateActiveMQ } from "../../helpers/services/activemq";
import { Agent } from "../../../services/agent/agent";
import { ACTION_TABLE } from "../../../services/agent/actions";
import { BusConnection, type BusMessage } from "../../../services/bus/connection";
import { NodeBus } from "../../../services/bus/node-bus";
import { nodeQueue, replyQueue, type BusReply, type NodeFacts } from "../../../services/bus/actions";
import {
  GeartrainError,
  NotFoundError,
  OperationFailedError,
  UnavailableError,
  ValidationError,
} from "../../../common/errors";

jest.setTimeout(180_000);

const logs: string[] = [];
const log = (level: string, message: string) => void logs.push(`${level} ${message}`);

let amq: PrivateActiveMQ;
let node: TestNode;
let bus: NodeBus;
let agent: Agent;

function newAgent(opts: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Agent {
  return new Agent({
    bus: { host: amq.host, port: amq.port, user: amq.agents.node1.user, password: amq.agents.node1.password },
    ctx: node.ctx,
    facts: {
      node: "node1",
      district: "d1",
      profile: "small",
      maxActiveGears: 50,
      publicHostname: "node1.example.com",
    },
    factsIntervalMs: 300,
    reconnectDelayMs: 200,
    maxReconnectDelayMs: 1000,
    log,
    ...opts,
  });
}

/** A raw client as the broker user: publish requests by hand and read their replies. */
async function rawBroker(): Promise<{
  conn: BusConnection;
  replies: BusReply[];
  replyTo: string;
  send(req: object, headers?: Record<string, string>): void;
}> {
  const conn = new BusConnection({
    host: amq.host,
    port: amq.port,
    user: amq.broker.user,
    password: amq.broker.password,
    name: "raw broker",
    log,
  });
  const replyTo = replyQueue(`raw-${randomUUID().slice(0, 8)}`);
  const replies: BusReply[] = [];
  conn.subscribe(replyTo, (m: BusMessage) => replies.push(JSON.parse(m.body)));
  conn.start();
  await conn.waitConnected(10_000);
  return {
    conn,
    replies,
    replyTo,
    send: (req, headers = {}) => conn.publish(nodeQueue("node1"), JSON.stringify(req), headers),
  };
}

/** The error a call fails with (a call that succeeds fails the test). */
async function failure(p: Promise<unknown>): Promise<GeartrainError> {
  try {
    await p;
  } catch (e) {
    return e as GeartrainError;
  }
  throw new Error("expected the call to fail");
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  node = await makeTestNode("busrt", 64400);
  amq = await startActiveMQ({ nodes: ["node1", "node2"], name: "roundtrip" });
  agent = newAgent();
  await agent.start();
  bus = await NodeBus.connect({
    host: amq.host,
    port: amq.port,
    user: amq.broker.user,
    password: amq.broker.password,
    silenceMs: 1500,
    reconnectDelayMs: 200,
    log,
  });
  await agent.waitConnected(15_000);
});

afterAll(async () => {
  await bus?.close();
  await agent?.stop();
  await node?.cleanup();
  const brokerLog = amq?.log() ?? "";
  await amq?.stop();
  // no password in any log line: ours, or the broker's
  for (const secret of amq?.secrets ?? []) {
    expect(logs.join("\n")).not.toContain(secret);
    expect(brokerLog).not.toContain(secret);
  }
});

test("a real gear is created, inspected and destroyed through the bus", async () => {
  const uuid = newUuid();
  const spec = { uuid, uid: node.uid(1), app: "busapp", namespace: "bus" };
  const created = (await bus.call("node1", "gear.create", spec, { timeoutMs: 60_000 })) as {
    uuid: string;
    phase: string;
    user: { exists: boolean };
  };
  expect(created.uuid).toBe(uuid);
  expect(created.phase).toBe("created");
  expect(created.user.exists).toBe(true);
  const inspected = (await bus.call("node1", "gear.inspect", { uuid }, { timeoutMs: 60_000 })) as {
    drift: unknown[];
    spec: { app: string };
  };
  expect(inspected.drift).toEqual([]);
  expect(inspected.spec.app).toBe("busapp");
  const list = (await bus.call("node1", "gear.list", {}, { timeoutMs: 30_000 })) as { uuid: string }[];
  expect(list.map((g) => g.uuid)).toContain(uuid);
  const destroyed = await bus.call("node1", "gear.destroy", { uuid }, { timeoutMs: 60_000 });
  expect(destroyed).toMatchObject({ uuid, destroyed: true });
  expect(traces(node, uuid)).toEqual([]);
});

test("a node's error comes back as the error of its kind, with field and exit code", async () => {
  const missing = newUuid();
  const err = await failure(bus.call("node1", "gear.inspect", { uuid: missing }, { timeoutMs: 30_000 }));
  expect(err).toBeInstanceOf(NotFoundError);
  expect(err.exitCode).toBe(4);
  expect(err.message).toContain(missing);
  const bad = await failure(
    bus.call(
      "node1",
      "gear.create",
      { uuid: newUuid(), uid: 5, app: "a", namespace: "n" },
      { timeoutMs: 30_000 },
    ),
  );
  expect(bad).toBeInstanceOf(ValidationError);
  expect(bad.field).toBe("uid");
  expect(bad.message).toMatch(/^invalid uid: /);
  // arguments of the wrong shape never leave the broker
  await expect(bus.call("node1", "gear.inspect", { uuid: "x" } as never)).rejects.toThrow(
    /invalid args\.uuid/,
  );
});

test("a request delivered twice with one id runs once; both deliveries get the first reply", async () => {
  const raw = await rawBroker();
  try {
    const before = agent.stats.executed;
    const dupBefore = agent.stats.duplicates;
    const req = {
      id: randomUUID(),
      action: "gear.list",
      args: {},
      replyTo: raw.replyTo,
      expiresAt: Date.now() + 30_000,
      node: "node1",
    };
    raw.send(req);
    raw.send(req);
    await until("two replies", () => raw.replies.length === 2);
    expect(agent.stats.executed - before).toBe(1);
    expect(agent.stats.duplicates - dupBefore).toBe(1);
    expect(raw.replies[0]).toEqual(raw.replies[1]);
    expect(raw.replies[0]).toMatchObject({ id: req.id, node: "node1", ok: true });
  } finally {
    await raw.conn.stop();
  }
});

test("a request redelivered by ActiveMQ after the agent lost its connection mid-run is not run again", async () => {
  // a slow action: the connection is dropped while it runs, so the request is neither answered nor acked
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = newAgent({
    table: {
      ...ACTION_TABLE,
      "gear.list": async (env) => {
        runs++;
        await gate;
        return ACTION_TABLE["gear.list"](env, {});
      },
    },
  });
  await agent.stop(); // one consumer of node1's queue: the slow agent
  await slow.start();
  await slow.waitConnected(15_000);
  try {
    const call = bus.call("node1", "gear.list", {}, { timeoutMs: 30_000 });
    await until("the run to start", () => runs === 1);
    const connects = slow.connects;
    slow.dropConnection();
    await until("the agent to reconnect", () => slow.connects > connects && slow.connected);
    release();
    await expect(call).resolves.toEqual(expect.any(Array));
    expect(runs).toBe(1);
    expect(slow.stats.duplicates).toBeGreaterThanOrEqual(1); // the redelivery joined the run in progress
  } finally {
    release();
    await slow.stop();
    agent = newAgent();
    await agent.start();
    await agent.waitConnected(15_000);
  }
});

test("a reply over the size cap comes back as an error, not a lost connection; a request over it is not sent", async () => {
  const big = newAgent({
    maxReplyBytes: 2000,
    table: {
      ...ACTION_TABLE,
      "gear.list": async () => Array.from({ length: 500 }, (_, i) => ({ uuid: `g${i}` })),
    },
  });
  await agent.stop();
  await big.start();
  await big.waitConnected(15_000);
  try {
    const connects = big.connects;
    const err = await failure(bus.call("node1", "gear.list", {}, { timeoutMs: 30_000 }));
    expect(err).toBeInstanceOf(OperationFailedError);
    expect(err.message).toBe("the reply of gear.list on node node1 is over 2000 bytes");
    expect(big.connects).toBe(connects); // the connection stayed up
  } finally {
    await big.stop();
    agent = newAgent();
    await agent.start();
    await agent.waitConnected(15_000);
  }
  const huge = { uuid: newUuid(), env: { BIG: "x".repeat(2 * 1024 * 1024) } };
  const err = await failure(bus.call("node1", "gear.update", huge, { timeoutMs: 30_000 }));
  expect(err).toBeInstanceOf(ValidationError);
  expect(err.message).toMatch(/^invalid args: the request is over 1048576 bytes/);
});

test("with a journal, a request is answered without a rerun by the next agent process; one that never finished twice is refused", async () => {
  const journalDir = path.join(node.dir, "agent-journal");
  const raw = await rawBroker();
  await agent.stop();
  try {
    const req = {
      id: randomUUID(),
      action: "gear.list",
      args: {},
      replyTo: raw.replyTo,
      expiresAt: Date.now() + 30_000,
      node: "node1",
    };
    const first = newAgent({ journalDir });
    await first.start();
    await first.waitConnected(15_000);
    raw.send(req);
    await until("the first reply", () => raw.replies.length === 1);
    expect(first.stats.executed).toBe(1);
    await first.stop();
    // a new agent (its memory empty, as after a restart) gets the same request again
    const second = newAgent({ journalDir });
    await second.start();
    await second.waitConnected(15_000);
    try {
      raw.send(req);
      await until("the second reply", () => raw.replies.length === 2);
      expect(second.stats.executed).toBe(0);
      expect(second.stats.duplicates).toBe(1);
      expect(raw.replies[1]).toEqual(raw.replies[0]);
      // a request whose runs were started twice and never finished (the agent died each time)
      const poison = { ...req, id: randomUUID() };
      writeFileSync(
        path.join(journalDir, `${poison.id}.json`),
        JSON.stringify({ state: "running", attempts: 2, at: Date.now() }),
        { mode: 0o600 },
      );
      raw.send(poison);
      await until("the refusal", () => raw.replies.length === 3);
      expect(second.stats).toMatchObject({ executed: 0, poisoned: 1 });
      expect(raw.replies[2]).toMatchObject({
        id: poison.id,
        ok: false,
        error: { kind: "failed", exitCode: 1 },
      });
      expect((raw.replies[2] as { error: { message: string } }).error.message).toMatch(/never finished it/);
      expect((statSync(journalDir).mode & 0o777).toString(8)).toBe("700");
    } finally {
      await second.stop();
    }
  } finally {
    await raw.conn.stop();
    agent = newAgent();
    await agent.start();
    await agent.waitConnected(15_000);
  }
});

test("an expired request is not run", async () => {
  const raw = await rawBroker();
  try {
    const before = { ...agent.stats };
    // deadline passed, but no STOMP expiry: ActiveMQ delivers it and the agent must drop it
    raw.send({
      id: randomUUID(),
      action: "gear.list",
      args: {},
      replyTo: raw.replyTo,
      expiresAt: Date.now() - 1,
      node: "node1",
    });
    await until("the agent to drop it", () => agent.stats.expired === before.expired + 1);
    expect(agent.stats.executed).toBe(before.executed);
    expect(raw.replies).toEqual([]);
  } finally {
    await raw.conn.stop();
  }
});

test("agent stopped: the call fails with UnavailableError at its deadline; a new agent does not run it", async () => {
  await agent.stop();
  const started = Date.now();
  const err = await failure(bus.call("node1", "gear.list", {}, { timeoutMs: 1500 }));
  const took = Date.now() - started;
  expect(err).toBeInstanceOf(UnavailableError);
  expect(err.message).toMatch(/^node node1 did not answer gear\.list within 1500 ms/);
  expect(took).toBeGreaterThanOrEqual(1500);
  expect(took).toBeLessThan(1500 + 5000);
  agent = newAgent();
  await agent.start();
  await agent.waitConnected(15_000);
  await expect(bus.call("node1", "gear.list", {}, { timeoutMs: 30_000 })).resolves.toEqual(expect.any(Array));
  expect(agent.stats.executed).toBe(1); // the stale request expired in the queue
});

test("an agent cannot read another node's queue, nor send requests, nor read replies", async () => {
  const n1 = new BusConnection({
    host: amq.host,
    port: amq.port,
    user: amq.agents.node1.user,
    password: amq.agents.node1.password,
    name: "intruder",
    log,
  });
  const got: string[] = [];
  n1.subscribe(nodeQueue("node2"), (m) => got.push(m.body));
  n1.start();
  await n1.waitConnected(10_000);
  try {
    await until("the broker's refusal", () => n1.error !== null);
    expect(n1.error).toMatch(/not authorized to read from: queue:\/\/geartrain\.node\.node2/);
    // a request for node2 sent by the broker user does not reach node1
    const raw = await rawBroker();
    raw.conn.publish(
      nodeQueue("node2"),
      JSON.stringify({
        id: randomUUID(),
        action: "gear.list",
        args: {},
        replyTo: raw.replyTo,
        expiresAt: Date.now() + 2000,
        node: "node2",
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual([]);
    await raw.conn.stop();
  } finally {
    await n1.stop();
  }
  // an agent may not put a request on its own queue, nor read a broker's replies
  const n1b = new BusConnection({
    host: amq.host,
    port: amq.port,
    user: amq.agents.node1.user,
    password: amq.agents.node1.password,
    name: "intruder-2",
    log,
  });
  n1b.start();
  await n1b.waitConnected(10_000);
  try {
    n1b.publish(nodeQueue("node1"), "{}");
    await until("the refused send", () => n1b.error !== null);
    expect(n1b.error).toMatch(/not authorized to write to: queue:\/\/geartrain\.node\.node1/);
    n1b.subscribe(bus.replyTo, () => undefined);
    await until("the refused subscribe", () => /read from: queue:\/\/geartrain\.reply/.test(n1b.error ?? ""));
  } finally {
    await n1b.stop();
  }
  // the wrong password is refused at CONNECT
  const wrong = new BusConnection({
    host: amq.host,
    port: amq.port,
    user: amq.agents.node1.user,
    password: "not-the-password",
    name: "wrong password",
    reconnectDelayMs: 5000,
  });
  wrong.start();
  await expect(wrong.waitConnected(2000)).rejects.toThrow(UnavailableError);
  await wrong.stop();
});

test("facts arrive from the agent; silence marks the node unresponsive", async () => {
  const seen: NodeFacts[] = [];
  const off = bus.onFacts((f) => seen.push(f));
  await until("facts", () => seen.some((f) => f.node === "node1"));
  off();
  const f = seen.find((x) => x.node === "node1")!;
  expect(f).toMatchObject({
    district: "d1",
    profile: "small",
    maxActiveGears: 50,
    publicHostname: "node1.example.com",
    activeGears: 0,
  });
  expect(Array.isArray(f.cartridges)).toBe(true);
  expect(bus.nodeStatus("node1").status).toBe("responsive");
  expect(bus.nodeStatus("node2").status).toBe("unresponsive"); // never heard from
  await agent.stop();
  await until("node1 to turn unresponsive", () => bus.nodeStatus("node1").status === "unresponsive", 10_000);
  expect(bus.nodes().map((n) => n.node)).toContain("node1");
  agent = newAgent();
  await agent.start();
  await until("node1 to be responsive again", () => bus.nodeStatus("node1").status === "responsive");
});
