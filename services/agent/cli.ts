// `geartrain agent …`: the node agent's command group. Only this small module loads with `geartrain --help`;
// the agent and the node layer load when `run` runs (main.ts).

import { parseArgs } from "util";
import type { CommandGroup } from "../../common/cli";
import { failFor } from "../../common/cli-fail";
import { EXIT, UsageError } from "../../common/errors";

export const AGENT_USAGE = `geartrain agent: the node agent (run as root on a node host)

Usage:
  geartrain agent run --config FILE     consume this node's queue on the message bus until SIGTERM

FILE is JSON (see docs/control-plane.md "Node agent"):
  {"bus": {"host": "127.0.0.1", "port": 61613, "user": "agent-node1", "passwordFile": "/etc/geartrain/agent.password"},
   "node": "node1", "nodeConfig": "/etc/geartrain/node.json", "district": "default", "profile": "small",
   "maxActiveGears": 100, "publicHostname": "node1.example.com"}
STOMP over TLS: "bus": {..., "tls": {"caFile": "/etc/geartrain/bus-ca.crt", "serverName": "bus.example.com"}}
(the bus's certificate must chain to the CA in caFile and name serverName, default bus.host).
The password file (first line) must not be readable by others.`;

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(AGENT_USAGE);
    return cmd === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (cmd !== "run") throw new UsageError(`unknown agent command ${JSON.stringify(cmd)}`);
  const { values } = parseArgs({ args: rest, options: { config: { type: "string" } }, strict: true });
  if (!values.config) throw new UsageError("run needs --config FILE");
  return (await import("./main")).runAgent(values.config);
}

export const group: CommandGroup = {
  summary: "the node agent: node operations on request over the message bus",
  async run(argv) {
    try {
      return await run(argv);
    } catch (e) {
      return failFor(e, { program: "geartrain agent", usage: AGENT_USAGE });
    }
  },
};
