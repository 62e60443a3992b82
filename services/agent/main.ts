// The node agent's process entry: start an agent from its config file and run it until SIGTERM or SIGINT,
// which stop it after the requests in progress have replied (`geartrain agent run --config F`, cli.ts;
// systemd or a supervisor runs it as root on each node host). Logs one line per event on stderr, never a
// password.

import * as path from "path";
import { CONFIG_ENV, loadConfig, makeContext } from "../../node";
import { busTlsOptions } from "../bus/ca-file";
import { Agent } from "./agent";
import { loadAgentConfig, readPasswordFile } from "./config";

function log(level: string, message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
}

/** Start an agent from its config file; resolves once it is started (connecting in the background). */
export async function startAgent(configFile: string): Promise<Agent> {
  const cfg = loadAgentConfig(configFile);
  const password = readPasswordFile(cfg.bus.passwordFile);
  const tls = busTlsOptions(cfg.bus.tls);
  const nodeConfig = loadConfig(cfg.nodeConfig ? { [CONFIG_ENV]: cfg.nodeConfig } : {});
  const ctx = await makeContext(nodeConfig);
  const agent = new Agent({
    bus: { host: cfg.bus.host, port: cfg.bus.port, user: cfg.bus.user, password, ...(tls ? { tls } : {}) },
    ctx,
    facts: {
      node: cfg.node,
      district: cfg.district,
      profile: cfg.profile,
      maxActiveGears: cfg.maxActiveGears,
      publicHostname: cfg.publicHostname,
    },
    prefix: cfg.prefix,
    factsIntervalMs: cfg.factsIntervalMs,
    concurrency: cfg.concurrency,
    heartbeatMs: cfg.heartbeatMs,
    maxReconnectDelayMs: cfg.maxReconnectDelayMs,
    journalDir: cfg.journalDir ?? path.join(nodeConfig.stateDir, "agent-requests"),
    log,
  });
  await agent.start();
  return agent;
}

/** Run the agent of `configFile` until SIGTERM or SIGINT; resolves with the exit code. */
export async function runAgent(configFile: string): Promise<number> {
  const agent = await startAgent(configFile);
  log("info", `agent ${agent.node}: started`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  log("info", `agent ${agent.node}: stopping`);
  await agent.stop();
  return 0;
}
