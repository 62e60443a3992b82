// `geartrain node frontend set|remove|show|list`: the node frontend for operators. set reads the spec as
// JSON on stdin. Errors are thrown to node/cli/main.ts, which maps them to its exit codes and JSON error shape.

import { parseArgs } from "util";
import { makeContext } from "../context";
import { ValidationError } from "../validate";
import {
  listGearFrontends,
  readGearFrontend,
  removeGearFrontend,
  setGearFrontend,
} from "../frontend/operations";
import type { GearFrontendSpec } from "../frontend/validate";
import { out, readAllStdin } from "./io";

export const FRONTEND_USAGE = `geartrain node frontend: HTTP routes of gears (nginx)

Usage:
  geartrain node frontend set            JSON spec on stdin, e.g.
      {"gearUuid":"<32 hex>","hostnames":["app-ns.example.com"],
       "routes":[{"path":"","backend":{"ip":"127.1.244.1","port":8080}}],"idle":false}
  geartrain node frontend remove <uuid>
  geartrain node frontend show   <uuid>    exit 4 when the gear has no frontend
  geartrain node frontend list

Output is JSON on stdout. See docs/frontend.md.`;

function readStdin(): Promise<string> {
  return readAllStdin(() => new ValidationError("request", "expected the JSON spec on stdin"));
}

export async function runFrontend(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(FRONTEND_USAGE);
    return sub === undefined ? 2 : 0;
  }
  const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true, strict: true });
  const wantArgs = sub === "remove" || sub === "show" ? 1 : 0;
  if (!["set", "remove", "show", "list"].includes(sub) || positionals.length !== wantArgs) {
    console.error(`geartrain node frontend: bad command line: ${argv.join(" ")}\n\n${FRONTEND_USAGE}`);
    return 2;
  }
  const ctx = await makeContext();
  switch (sub) {
    case "set": {
      const text = await readStdin();
      let spec: unknown;
      try {
        spec = JSON.parse(text);
      } catch (e) {
        throw new ValidationError("request", `stdin is not valid JSON: ${(e as Error).message}`);
      }
      await setGearFrontend(ctx, spec as GearFrontendSpec);
      out(await readGearFrontend(ctx, (spec as GearFrontendSpec).gearUuid));
      return 0;
    }
    case "remove":
      await removeGearFrontend(ctx, positionals[0]);
      out({ gearUuid: positionals[0], removed: true });
      return 0;
    case "show": {
      const spec = await readGearFrontend(ctx, positionals[0]);
      if (!spec) {
        const message = `gear ${positionals[0]} has no frontend on this node`;
        out({ error: { kind: "not_found", message } });
        console.error(`geartrain node: ${message}`);
        return 4;
      }
      out(spec);
      return 0;
    }
    default:
      out(await listGearFrontends(ctx));
      return 0;
  }
}
