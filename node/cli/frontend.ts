// `geartrain node frontend set|remove|show|list|sync`: the node frontend for operators. set reads the spec as
// JSON on stdin. Errors print through failFor (exit codes and JSON error shape as `geartrain node`).

import { parseArgs } from "util";
import { failFor } from "../../common/cli-fail";
import { EXIT, NotFoundError, UsageError, ValidationError } from "../../common/errors";
import { makeContext } from "../context";
import {
  listGearFrontends,
  readGearFrontend,
  removeGearFrontend,
  setGearFrontend,
  syncGearFrontends,
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
  geartrain node frontend sync             render every gear's file again under the current config (after
                                           frontend.listen or frontend.tls changed) and reload nginx, so a
                                           certificate replaced at the same path is served too

Output is JSON on stdout; errors and exit codes as \`geartrain node\` (1 nginx refused the change, 2 usage,
3 invalid spec, 4 not found, 5 a host name of another gear). See docs/frontend.md.`;

function readStdin(): Promise<string> {
  return readAllStdin(() => new ValidationError("request", "expected the JSON spec on stdin"));
}

async function dispatch(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(FRONTEND_USAGE);
    return sub === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true, strict: true });
  const wantArgs = sub === "remove" || sub === "show" ? 1 : 0;
  if (!["set", "remove", "show", "list", "sync"].includes(sub) || positionals.length !== wantArgs) {
    throw new UsageError(`bad command line: ${argv.join(" ")}`);
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
      return EXIT.OK;
    }
    case "remove":
      await removeGearFrontend(ctx, positionals[0]);
      out({ gearUuid: positionals[0], removed: true });
      return EXIT.OK;
    case "show": {
      const spec = await readGearFrontend(ctx, positionals[0]);
      if (!spec) throw new NotFoundError(`gear ${positionals[0]} has no frontend on this node`);
      out(spec);
      return EXIT.OK;
    }
    case "sync":
      out(await syncGearFrontends(ctx));
      return EXIT.OK;
    default:
      out(await listGearFrontends(ctx));
      return EXIT.OK;
  }
}

export async function runFrontend(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    return failFor(e, { program: "geartrain node frontend", usage: FRONTEND_USAGE });
  }
}
