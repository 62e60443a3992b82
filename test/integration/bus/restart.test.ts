// ActiveMQ restarted under a running agent and broker: both reconnect (backoff), subscribe again and the
// next call works; a call waiting across the restart is sent again with its id and answered. The agent is
// started from its config file (services/agent/main.ts startAgent), as `geartrain agent run` does.
// A test node of its own, UIDs 64500-64599.

import { spawn } from "child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { makeTestNode, newUuid, type TestNode } from "../../node/helpers";
import { startActiveMQ, type PrivateActiveMQ } from "../../helpers/services/activemq";
import type { Agent } from "../../../services/agent/agent";
import { startAgent } from "../../../services/agent/main";
import { NodeBus } from "../../../services/bus/node-bus";

jest.setTimeout(240_000);

const logs: string[] = [];
let amq: PrivateActiveMQ;
let node: TestNode;
let bus: NodeBus;
let agent: Agent;
let dir: string;
const stderr = process.stderr.write.bind(process.stderr);

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  node = await makeTestNode("busrs", 64500);
  amq = await startActiveMQ({ nodes: ["node7", "node8"], name: "restart" });
  dir = mkdtempSync(path.join(os.tmpdir(), "gt-agent-"));
  const passwordFile = path.join(dir, "agent.password");
  writeFileSync(passwordFile, amq.agents.node7.password + "\n", { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  const configFile = path.join(dir, "agent.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      bus: { host: amq.host, port: amq.port, user: amq.agents.node7.user, passwordFile },
      node: "node7",
      nodeConfig: node.configPath,
      district: "d7",
      profile: "small",
      maxActiveGears: 20,
      publicHostname: "node7.example.com",
      factsIntervalMs: 1000,
      maxReconnectDelayMs: 1000,
    }),
  );
  // the agent logs to stderr (main.ts): keep its lines for the secret check
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return (stderr as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  agent = await startAgent(configFile);
  bus = await NodeBus.connect({
    host: amq.host,
    port: amq.port,
    user: amq.broker.user,
    password: amq.broker.password,
    reconnectDelayMs: 200,
    maxReconnectDelayMs: 1000,
    log: (level, message) => void logs.push(`${level} ${message}`),
  });
  await agent.waitConnected(15_000);
});

afterAll(async () => {
  process.stderr.write = stderr;
  await bus?.close();
  await agent?.stop();
  await node?.cleanup();
  const brokerLog = amq?.log() ?? "";
  await amq?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const secret of amq?.secrets ?? []) {
    expect(logs.join("\n")).not.toContain(secret);
    expect(brokerLog).not.toContain(secret);
  }
});

test("after an ActiveMQ restart the agent and the broker reconnect and the next call works", async () => {
  await expect(bus.call("node7", "gear.list", {}, { timeoutMs: 30_000 })).resolves.toEqual([]);
  const [agentConnects, busConnects] = [agent.connects, bus.connects];
  await amq.restart();
  await until("both to reconnect", () => agent.connects > agentConnects && bus.connects > busConnects);
  const uuid = newUuid();
  const created = await bus.call(
    "node7",
    "gear.create",
    { uuid, uid: node.uid(1), app: "restarted", namespace: "bus" },
    { timeoutMs: 60_000 },
  );
  expect(created).toMatchObject({ uuid, phase: "created" });
  await expect(bus.call("node7", "gear.destroy", { uuid }, { timeoutMs: 60_000 })).resolves.toMatchObject({
    destroyed: true,
  });
  expect(logs.some((l) => /agent node7: connection to .* lost; reconnecting/.test(l))).toBe(true);
});

test("a call made while ActiveMQ is down is sent once the bus is back, and answered", async () => {
  const before = bus.connects;
  await amq.down();
  await until("the broker to notice", () => !bus.connected);
  const call = bus.call("node7", "gear.list", {}, { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 500));
  await amq.up();
  await expect(call).resolves.toEqual([]);
  expect(bus.connects).toBeGreaterThan(before);
});

test("facts resume after the restart", async () => {
  const seen: string[] = [];
  const off = bus.onFacts((f) => seen.push(f.node));
  await until("facts from node7", () => seen.includes("node7"));
  off();
  expect(bus.nodeStatus("node7").facts).toMatchObject({
    district: "d7",
    publicHostname: "node7.example.com",
  });
});

test("`geartrain agent run --config F` serves its node until SIGTERM, then exits 0", async () => {
  const repo = path.resolve(__dirname, "../../..");
  const main = path.join(repo, "dist/services/agent/main.js");
  if (!existsSync(main)) throw new Error("dist/ is missing. Fix: npm run build");
  const built = statSync(main).mtimeMs;
  for (const d of ["services/agent", "services/bus"])
    for (const f of readdirSync(path.join(repo, d), { recursive: true }) as string[])
      if (f.endsWith(".ts") && statSync(path.join(repo, d, f)).mtimeMs > built)
        throw new Error(`dist/ is older than ${d}/${f}. Fix: npm run build`);
  const passwordFile = path.join(dir, "node8.password");
  writeFileSync(passwordFile, amq.agents.node8.password + "\n", { mode: 0o600 });
  const configFile = path.join(dir, "node8.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      bus: { host: amq.host, port: amq.port, user: amq.agents.node8.user, passwordFile },
      node: "node8",
      nodeConfig: node.configPath,
      district: "d7",
      profile: "small",
      maxActiveGears: 20,
      publicHostname: "node8.example.com",
    }),
  );
  const child = spawn(
    process.execPath,
    [path.join(repo, "bin/geartrain"), "agent", "run", "--config", configFile],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  try {
    await until("the agent to connect", () => /agent node8: connected/.test(output));
    await expect(bus.call("node8", "gear.list", {}, { timeoutMs: 30_000 })).resolves.toEqual([]);
  } finally {
    child.kill("SIGTERM");
  }
  expect(await exited).toBe(0);
  expect(output).toMatch(/agent node8: stopping/);
  logs.push(output);
});
