// What every broker command group of `geartrain` shares: where it writes and reads (a context tests replace),
// the stored login (~/.geartrain/client.json, 0600), the client for the chosen broker, the flags every command
// takes (--server, --json) and a group's dispatch with failFor. The groups speak to the broker only through
// clients/broker, the same REST API as any other client.

import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
  chmodSync,
} from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs, type ParseArgsConfig } from "util";
import type { CommandGroup } from "../../common/cli";
import { failFor } from "../../common/cli-fail";
import { EXIT, UsageError, ValidationError } from "../../common/errors";
import { apiRoot, BrokerClient, type WireMessage } from "../../clients/broker";

export interface CliContext {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  /** asks on the terminal without echo (stdin a TTY); one line */
  promptSecret?(question: string): Promise<string>;
  readonly stdinIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** the folder of client.json (GEARTRAIN_HOME or ~/.geartrain) */
  readonly home: string;
  readonly fetch?: typeof fetch;
  /** how often progress is shown while waiting; default 5000 ms */
  readonly progressMs?: number;
  /**
   * Credentials from the environment (GEARTRAIN_LOGIN and GEARTRAIN_PASSWORD, both set), for programs that
   * run the CLI (the District component): used instead of the stored login, never taken from argv.
   */
  readonly envCredentials?: { readonly login: string; readonly password: string };
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => void (s += d));
    stream.once("end", () => resolve(s));
    stream.once("error", reject);
  });
}

/** Reads one line from the terminal with echo off (raw mode); Ctrl-C or Ctrl-D gives up. */
function promptWithoutEcho(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.setEncoding("utf8");
    stdin.resume();
    let line = "";
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done(null);
        if (ch === "\u0003" || ch === "\u0004") return done(new UsageError("no password given"));
        if (ch === "\u007f" || ch === "\b") line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on("data", onData);
  });
}

export function processContext(): CliContext {
  return {
    out: (t) => void process.stdout.write(t + "\n"),
    err: (t) => void process.stderr.write(t + "\n"),
    readStdin: () => readAll(process.stdin),
    promptSecret: (question) => promptWithoutEcho(question),
    stdinIsTTY: process.stdin.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    home: process.env.GEARTRAIN_HOME ?? path.join(os.homedir(), ".geartrain"),
    ...envCredentials(process.env),
  };
}

/** GEARTRAIN_LOGIN + GEARTRAIN_PASSWORD, when both are set and not empty. */
export function envCredentials(env: NodeJS.ProcessEnv): Pick<CliContext, "envCredentials"> {
  const login = env.GEARTRAIN_LOGIN;
  const password = env.GEARTRAIN_PASSWORD;
  return login && password ? { envCredentials: { login, password } } : {};
}

// --- the stored login

export interface StoredLogin {
  /** the API root, https://host/broker/rest */
  readonly server: string;
  readonly login: string;
  readonly token: string;
}

export const CLIENT_FILE = "client.json";

export function clientFile(ctx: CliContext): string {
  return path.join(ctx.home, CLIENT_FILE);
}

export function readLogin(ctx: CliContext): StoredLogin | null {
  let text: string;
  try {
    text = readFileSync(clientFile(ctx), "utf8");
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Partial<StoredLogin>;
    if (typeof v.server === "string" && typeof v.token === "string" && typeof v.login === "string")
      return { server: v.server, login: v.login, token: v.token };
  } catch {
    /* fall through */
  }
  throw new ValidationError(clientFile(ctx), "is not a geartrain client file: run `geartrain login` again");
}

/** Writes the login 0600 (folder 0700), through a temp file and a rename, so no reader sees half of it. */
export function writeLogin(ctx: CliContext, login: StoredLogin): string {
  mkdirSync(ctx.home, { recursive: true, mode: 0o700 });
  const file = clientFile(ctx);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(login, null, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

// --- flags and the client

export const COMMON_FLAGS = {
  server: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export type Options = NonNullable<ParseArgsConfig["options"]>;

type ParseConfig<O extends Options> = {
  args: string[];
  options: typeof COMMON_FLAGS & O;
  allowPositionals: true;
  strict: true;
};
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<ParseConfig<O>>>;

/** parseArgs with the common flags and `extra`; unknown flags are usage errors. */
export function parse<O extends Options>(argv: readonly string[], extra: O): Parsed<O> {
  return parseArgs({
    args: [...argv],
    options: { ...COMMON_FLAGS, ...extra },
    allowPositionals: true,
    strict: true,
  });
}

/**
 * The client for `--server` (or the stored login's server): with the environment's credentials when given
 * (GEARTRAIN_LOGIN, GEARTRAIN_PASSWORD), else the stored token when it is that server's.
 */
export function clientFor(ctx: CliContext, server: string | undefined): BrokerClient {
  const stored = readLogin(ctx);
  const root = server !== undefined ? apiRoot(server) : stored?.server;
  if (root === undefined)
    throw new UsageError(
      "not logged in: run `geartrain login --server URL --login NAME` first (or pass --server)",
    );
  const credentials =
    ctx.envCredentials ?? (stored !== null && stored.server === root ? { token: stored.token } : null);
  return new BrokerClient({ server: root, credentials, ...(ctx.fetch ? { fetch: ctx.fetch } : {}) });
}

/** The namespace to use: `-n`, else the user's only (or first) domain, as rhc does. */
export async function namespaceOf(client: BrokerClient, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const domains = await client.listDomains();
  if (domains.length === 0)
    throw new UsageError("you have no domain: create one with `geartrain domain create NAME`, or pass -n");
  return domains[0].name;
}

/** The client (`clientFor`) and the namespace to use (`namespaceOf`) of a command taking -n. */
export async function appScope(
  ctx: CliContext,
  values: { readonly server?: string; readonly namespace?: string },
): Promise<{ client: BrokerClient; ns: string }> {
  const client = clientFor(ctx, values.server);
  return { client, ns: await namespaceOf(client, values.namespace) };
}

/** Prints the messages of a reply worth showing (results, warnings) on stderr. */
export function showMessages(ctx: CliContext, messages: readonly WireMessage[]): void {
  for (const m of messages) ctx.err(m.severity === "warning" ? `warning: ${m.text}` : m.text);
}

/** Prints `value` as JSON (`--json`) or as the lines `human` gives. */
export function print(
  ctx: CliContext,
  json: boolean | undefined,
  value: unknown,
  human: () => string[],
): void {
  if (json) ctx.out(JSON.stringify(value, null, 2));
  else for (const line of human()) ctx.out(line);
}

/** Fixed-width columns for a list. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The lines of a list: `empty` when it has no items, else a table of one row per item. */
export function listLines<T>(
  list: readonly T[],
  empty: string,
  head: readonly string[],
  row: (item: T) => readonly string[],
): string[] {
  return list.length === 0 ? [empty] : table(head, list.map(row));
}

/** Runs `work` while a progress line shows on stderr every `ctx.progressMs` (what, elapsed seconds). */
export async function withProgress<T>(ctx: CliContext, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const every = ctx.progressMs ?? 5000;
  const timer = setInterval(() => {
    ctx.err(`  ... ${what}: ${Math.round((Date.now() - started) / 1000)} s`);
  }, every);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

// --- a group of commands

export interface Command {
  /** the usage lines of this command, e.g. "geartrain domain create NAME" */
  readonly usage: string;
  run(argv: readonly string[], ctx: CliContext): Promise<number>;
}

export interface BrokerGroup extends CommandGroup {
  /** runs with a given context (tests); run(argv) uses the process's */
  runWith(argv: readonly string[], ctx: CliContext): Promise<number>;
}

const COMMON_HELP = `Every command takes --server URL (default: the one you logged in to) and --json (JSON on stdout).
Exit codes: 0 success, 1 failed or broker unavailable, 2 usage, 3 invalid input (the field is named),
4 not found, 5 conflict, 6 check found inconsistencies.`;

/**
 * A command group: `geartrain <name> <command> ...` (or, with `single`, one command taking the whole
 * argv). Errors go through failFor: text on stderr, and the JSON error on stdout with --json.
 */
export function brokerGroup(
  name: string,
  summary: string,
  commands: Readonly<Record<string, Command>>,
  opts: { single?: boolean } = {},
): BrokerGroup {
  const usage = [
    `geartrain ${name}: ${summary}`,
    "",
    "Usage:",
    ...Object.values(commands).map((c) => `  ${c.usage}`),
    "",
    COMMON_HELP,
  ].join("\n");
  const runWith = async (argv: readonly string[], ctx: CliContext): Promise<number> => {
    const [first, ...rest] = argv;
    const json = argv.includes("--json");
    const io = { stdout: ctx.out, stderr: ctx.err };
    if (!opts.single && (first === undefined || first === "--help" || first === "-h" || first === "help")) {
      (first === undefined ? ctx.err : ctx.out)(usage);
      return first === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (argv.includes("--help") || argv.includes("-h")) {
      ctx.out(usage);
      return EXIT.OK;
    }
    const command = opts.single ? Object.values(commands)[0] : commands[first];
    const program = opts.single ? `geartrain ${name}` : `geartrain ${name} ${first}`;
    if (command === undefined)
      return failFor(new UsageError(`unknown command '${name} ${first}'`), {
        program: `geartrain ${name}`,
        usage,
        io,
      });
    try {
      return await command.run(opts.single ? argv : rest, ctx);
    } catch (err) {
      return failFor(err, { program, usage, json, io });
    }
  };
  return { summary, runWith, run: (argv) => runWith(argv, processContext()) };
}

/** `want` positionals exactly, else a usage error naming what is missing or extra. */
export function positionals(
  list: readonly string[],
  names: readonly string[],
  atLeast = names.length,
): string[] {
  if (list.length < atLeast) throw new UsageError(`missing ${names.slice(list.length).join(" ")}`);
  if (list.length > names.length) throw new UsageError(`unexpected argument '${list[names.length]}'`);
  return [...list];
}
