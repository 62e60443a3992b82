// `geartrain broker …`: the broker's command group. Only this small module loads with `geartrain --help`;
// the broker loads when `run` runs (main.ts).

import { parseArgs } from "util";
import type { CommandGroup } from "../../common/cli";
import { failFor } from "../../common/cli-fail";
import { EXIT, UsageError } from "../../common/errors";

export const BROKER_USAGE = `geartrain broker: the broker (OpenShift v2 REST API 1.7 on PostgreSQL)

Usage:
  geartrain broker run --config FILE     serve the REST API until SIGTERM

FILE is JSON (see docs/control-plane.md "Application service", services/broker/config.ts):
  {"listen": {"host": "127.0.0.1", "port": 8080}, "cloudDomain": "apps.example.com",
   "database": {"host": "127.0.0.1", "port": 5432, "database": "geartrain", "user": "broker", "passwordFile": "/etc/geartrain/db.password"},
   "bus": {"host": "127.0.0.1", "port": 61613, "user": "broker", "passwordFile": "/etc/geartrain/bus.password"},
   "dns": {"server": "127.0.0.1", "port": 53, "zone": "apps.example.com", "keyFile": "/etc/geartrain/tsig.key"},
   "admin": {"login": "admin", "passwordFile": "/etc/geartrain/admin.password"}}
STOMP over TLS: "bus": {..., "tls": {"caFile": "/etc/geartrain/bus-ca.crt", "serverName": "bus.example.com"}}
(the bus's certificate must chain to the CA in caFile and name serverName, default bus.host).
Secret files must not be readable by others.`;

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(BROKER_USAGE);
    return cmd === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (cmd !== "run") throw new UsageError(`unknown broker command ${JSON.stringify(cmd)}`);
  const { values } = parseArgs({ args: rest, options: { config: { type: "string" } }, strict: true });
  if (!values.config) throw new UsageError("run needs --config FILE");
  return (await import("./main")).runBroker(values.config);
}

export const group: CommandGroup = {
  summary: "the broker: the REST API over PostgreSQL, the message bus and DNS",
  async run(argv) {
    try {
      return await run(argv);
    } catch (e) {
      return failFor(e, { program: "geartrain broker", usage: BROKER_USAGE });
    }
  },
};
