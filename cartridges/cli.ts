// `geartrain cartridge …`: tools for cartridge authors. Today: lint.
import { parseArgs } from "util";
import type { CommandGroup } from "../common/cli";
import { failFor } from "../common/cli-fail";
import { EXIT as CODES, UsageError } from "../common/errors";

/** lint's exit codes: a cartridge with problems is invalid input, 3 as in `geartrain node cartridge`. */
export const EXIT = { OK: CODES.OK, PROBLEMS: CODES.INVALID, USAGE: CODES.USAGE } as const;

export const USAGE = `geartrain cartridge: tools for cartridge authors

Usage:
  geartrain cartridge lint [--json] [--env-prefix PREFIX] <dir> [<dir>...]

lint checks each cartridge directory: metadata/manifest.yml (the OpenShift v2 manifest format),
metadata/managed_files.yml, bin/control and the other bin/ scripts, hooks/, the variable files in env/,
Handlebars templates and versions/. It prints every problem, one per line:
  <file>: <key path>: <what was expected> (<fix>)
then a summary. See docs/cartridge-authoring.md.

Options:
  --json               print the results as JSON: [{ "dir", "ok", "problems": [...] }]
  --env-prefix PREFIX  prefix of the platform's variables (node config envPrefix; default GEARTRAIN_)
  -h, --help           show this help

Exit codes:
  0  every cartridge is valid
  2  usage error
  3  problems found (an invalid cartridge is invalid input: 3, as in \`geartrain node cartridge\`)`;

/** Where the CLI writes; the defaults are the process streams, tests pass their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text + "\n"),
  err: (text) => process.stderr.write(text + "\n"),
};

/** Runs `geartrain cartridge <argv...>` and returns the exit code. */
export async function runCartridgeCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command === undefined ? io.err : io.out)(USAGE);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  // stdout is the lint report (text or --json results), so errors are text on stderr only
  const fail = (program: string, err: unknown): number =>
    failFor(err, { program, usage: USAGE, json: false, io: { stdout: io.out, stderr: io.err } });
  if (command !== "lint") return fail("geartrain cartridge", new UsageError(`unknown command '${command}'`));
  try {
    return await lint(rest, io);
  } catch (err) {
    return fail("geartrain cartridge lint", err);
  }
}

async function lint(rest: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: "boolean", default: false },
      "env-prefix": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.out(USAGE);
    return EXIT.OK;
  }
  if (positionals.length === 0) throw new UsageError("name at least one cartridge directory");
  const envPrefix = values["env-prefix"];
  if (envPrefix !== undefined && !/^[A-Z][A-Z0-9]*_$/.test(envPrefix)) {
    throw new UsageError(
      `--env-prefix must match ^[A-Z][A-Z0-9]*_$ (e.g. GEARTRAIN_), got ${JSON.stringify(envPrefix)}`,
    );
  }
  // loaded here, not at the top: the manifest parser (yaml, ajv, handlebars) is most of a start-up
  const { formatLintResults, lintCartridges } = await import("./lint");
  const results = await lintCartridges(positionals, envPrefix !== undefined ? { envPrefix } : {});
  if (values.json) {
    const json = results.map((r) => ({ dir: r.dir, ok: r.cartridge !== undefined, problems: r.problems }));
    io.out(JSON.stringify(json, null, 2));
  } else {
    for (const line of formatLintResults(results)) io.out(line);
  }
  return results.every((r) => r.cartridge) ? EXIT.OK : EXIT.PROBLEMS;
}

export const group: CommandGroup = {
  summary: "cartridge authoring tools (lint)",
  run: (argv) => runCartridgeCli(argv),
};
