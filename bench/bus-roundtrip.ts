// Benchmark: request/reply round trip over the message bus, TCP_NODELAY on (what we ship) against off (what
// @stomp/tcp-wrapper does), in the same run against one private ActiveMQ (test/helpers/services/activemq.ts).
//
//   npm run build && node dist/bench/bus-roundtrip.js [--calls 200] [--rounds 5] [--burst 2000]
//
// Each round runs, for each setting in turn, an agent and a NodeBus with that setting and `calls` sequential
// calls of an action that does no node work (gear.list answered by a table entry returning []), so the figure
// is the transport: NodeBus → ActiveMQ → agent → ActiveMQ → NodeBus. The settings alternate round by round so
// load from other work on the machine hits both alike. Then `burst` calls at once through one agent
// (prefetch 1) with noDelay on: the throughput of one node's queue. Output: a table, the ratio and one JSON line.

import * as os from "os";
import { parseArgs } from "util";
import { Agent } from "../services/agent/agent";
import { ACTION_TABLE } from "../services/agent/actions";
import { NodeBus } from "../services/bus/node-bus";
import type { NodeContext } from "../node";
import { startActiveMQ, type PrivateActiveMQ } from "../test/helpers/services/activemq";
import { clock, loadAvg, ratio, row, runBench } from "./lib";

const NODE = "bench1";

async function pair(amq: PrivateActiveMQ, noDelay: boolean): Promise<{ agent: Agent; bus: NodeBus }> {
  const agent = new Agent({
    bus: { host: amq.host, port: amq.port, user: amq.agents[NODE].user, password: amq.agents[NODE].password },
    ctx: {} as NodeContext,
    facts: {
      node: NODE,
      district: "d",
      profile: "small",
      maxActiveGears: 1,
      publicHostname: "bench.example.com",
    },
    table: { ...ACTION_TABLE, "gear.list": async () => [] },
    collectFacts: async () => ({
      node: NODE,
      district: "d",
      profile: "small",
      activeGears: 0,
      maxActiveGears: 1,
      publicHostname: "bench.example.com",
      cartridges: [],
      at: Date.now(),
    }),
    factsIntervalMs: 3_600_000,
    noDelay,
  });
  await agent.start();
  const bus = await NodeBus.connect({
    host: amq.host,
    port: amq.port,
    user: amq.broker.user,
    password: amq.broker.password,
    noDelay,
    maxPending: 100_000,
  });
  await agent.waitConnected(15_000);
  // warm up (JIT, the queue's creation)
  for (let i = 0; i < 20; i++) await bus.call(NODE, "gear.list", {}, { timeoutMs: 30_000 });
  return { agent, bus };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { calls: { type: "string" }, rounds: { type: "string" }, burst: { type: "string" } },
  });
  const calls = Number(values.calls ?? 200);
  const rounds = Number(values.rounds ?? 5);
  const burst = Number(values.burst ?? 2000);
  const amq = await startActiveMQ({ nodes: [NODE], name: "bench" });
  const times: Record<"on" | "off", number[]> = { on: [], off: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const setting of r % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
        const { agent, bus } = await pair(amq, setting === "on");
        for (let i = 0; i < calls; i++)
          times[setting].push(await clock(() => bus.call(NODE, "gear.list", {}, { timeoutMs: 30_000 })));
        await bus.close();
        await agent.stop();
      }
    }
    const { agent, bus } = await pair(amq, true);
    const burstMs = await clock(() =>
      Promise.all(
        Array.from({ length: burst }, () => bus.call(NODE, "gear.list", {}, { timeoutMs: 120_000 })),
      ),
    );
    await bus.close();
    await agent.stop();
    const table = [row("noDelay on (ours)", times.on, 2), row("noDelay off (tcp-wrapper)", times.off, 2)];
    console.log(`bus round trip, ${rounds} rounds x ${calls} sequential calls per setting`);
    console.log(`cpus ${os.cpus().length}, load ${loadAvg()}`);
    console.table(table);
    const result = {
      bench: "bus-roundtrip",
      calls,
      rounds,
      p50: { on: table[0].p50, off: table[1].p50 },
      p95: { on: table[0].p95, off: table[1].p95 },
      offOverOnP50: ratio(times.off, times.on, 50),
      burst: { calls: burst, ms: Math.round(burstMs), perSecond: Math.round((burst / burstMs) * 1000) },
      load: loadAvg(),
    };
    console.log(`off / on at p50: ${result.offOverOnP50}x`);
    console.log(
      `${burst} concurrent calls through one agent (prefetch 1): ${result.burst.ms} ms, ${result.burst.perSecond}/s`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await amq.stop();
  }
}

runBench(main);
