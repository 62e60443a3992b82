// `geartrain node quickstart guestbook …`: one command for a working two-cartridge app (see guestbook.ts).
// JSON on stdout; exit codes as `geartrain node` (3: invalid input, nothing was changed).

import { parseArgs } from "util";
import { failFor } from "../../common/cli-fail";
import { EXIT, UsageError, ValidationError } from "../../common/errors";
import { makeContext } from "../context";
import { QUICKSTARTS, runQuickstart } from "../quickstart/guestbook";
import { out, readAllStdin } from "./io";

export const QUICKSTART_USAGE = `geartrain node quickstart: a ready-made app in one command (run as root)

Usage:
  geartrain node quickstart guestbook --uuid U --uid N --app A --namespace NS [--app-uuid ID] [--profile P]
  geartrain node quickstart guestbook < request.json
      {"uuid":"<32 hex>","uid":1000,"app":"guestbook","namespace":"dev","profile":"small"}

--app-uuid (appUuid): the application's id (32 hex); default: the existing gear's, else the gear's uuid.

guestbook: a gear with the postgresql and nodejs cartridges and the guestbook app of quickstarts/guestbook
deployed from the gear's git repository; served at http://<app>-<namespace>.<cloud domain>/. Running it
again converges (a no-op when everything is in place). Deploy progress goes to stderr.

Exit codes: 0 ok; 1 failed (hook_failed or deploy_failed: the error says which; re-run to continue); 2 usage;
3 invalid input (nothing was changed); 4 not found; 5 conflict (the uuid or uid is another gear's).`;

function readStdin(): Promise<string> {
  return readAllStdin(
    () => new UsageError("no field flags given and stdin is a terminal: pass flags or JSON on stdin"),
  );
}

/** command-line flag → request field */
const FIELDS = {
  uuid: "uuid",
  uid: "uid",
  app: "app",
  namespace: "namespace",
  "app-uuid": "appUuid",
  profile: "profile",
} as const;
const FLAGS = Object.keys(FIELDS) as (keyof typeof FIELDS)[];

async function dispatch(argv: string[]): Promise<number> {
  if (argv.length === 0 || ["--help", "-h", "help"].includes(argv[0])) {
    console.log(QUICKSTART_USAGE);
    return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    options: Object.fromEntries(FLAGS.map((f) => [f, { type: "string" as const }])),
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1)
    throw new UsageError(`expected one quickstart name (${QUICKSTARTS.join(", ")})`);
  let req: Record<string, unknown> = {};
  const given = FLAGS.filter((f) => values[f] !== undefined);
  if (given.length === 0) {
    const text = await readStdin();
    try {
      req = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ValidationError("request", `stdin is not valid JSON: ${(e as Error).message}`);
    }
  } else for (const f of given) req[FIELDS[f]] = values[f];
  const ctx = await makeContext();
  out(
    await runQuickstart(ctx, positionals[0], req, {
      onProgress: (chunk) => process.stderr.write(chunk),
    }),
  );
  return EXIT.OK;
}

export async function runQuickstartCommand(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    return failFor(e, { program: "geartrain node quickstart", usage: QUICKSTART_USAGE });
  }
}
