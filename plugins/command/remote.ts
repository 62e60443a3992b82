// SSH connections (ssh2) for command:remote:Command and command:remote:CopyToRemote: dialing with
// retries and a delay between attempts, host key pinning, an optional jump host, and running a
// command with its environment exported in front of it.

import { Client, ClientChannel, ConnectConfig } from "ssh2";
import { UnavailableError } from "../../common/errors";
import { remoteCommandString } from "./env";
import { commandFailed, Exit } from "./errors";
import { HostKeyMismatchError, hostKeyAlgorithms, hostKeyMatches, parseHostKey } from "./hostkey";
import { LogSink, OutputVisibility, StreamCollector, trimTrailingNewline } from "./logging";
import { CONNECTION_DEFAULTS } from "./schema";
import { CommandOutput, OUTPUT_GRACE_MS } from "./local";

export interface ConnectionSpec {
  host: string;
  port: number;
  user: string;
  privateKey?: string;
  privateKeyPassword?: string;
  password?: string;
  hostKey?: string;
  agentSocketPath?: string;
  dialErrorLimit: number;
  perDialTimeout: number;
  proxy?: ConnectionSpec;
}

function optString(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function numberOr(v: unknown, d: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : d;
}

/** Turns a (secret-unwrapped) `connection` input into a spec with the SDK's defaults applied. */
export function resolveConnection(raw: unknown, allowProxy = true): ConnectionSpec {
  const c = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const host = optString(c["host"]);
  if (!host) {
    throw new Error("connection.host is required");
  }
  let proxy: ConnectionSpec | undefined;
  if (c["proxy"] !== undefined && c["proxy"] !== null) {
    if (!allowProxy) {
      throw new Error("connection.proxy cannot itself have a proxy");
    }
    proxy = resolveConnection(c["proxy"], false);
  }
  return {
    host,
    port: numberOr(c["port"], CONNECTION_DEFAULTS.port),
    user: optString(c["user"]) ?? CONNECTION_DEFAULTS.user,
    privateKey: optString(c["privateKey"]),
    privateKeyPassword: optString(c["privateKeyPassword"]),
    password: typeof c["password"] === "string" ? c["password"] : undefined,
    hostKey: optString(c["hostKey"]),
    agentSocketPath: optString(c["agentSocketPath"]),
    dialErrorLimit: numberOr(c["dialErrorLimit"], CONNECTION_DEFAULTS.dialErrorLimit),
    perDialTimeout: numberOr(c["perDialTimeout"], CONNECTION_DEFAULTS.perDialTimeout),
    proxy,
  };
}

export function describeTarget(spec: ConnectionSpec): string {
  const host = spec.host.includes(":") ? `[${spec.host}]` : spec.host;
  return `${spec.user}@${host}:${spec.port}`;
}

/** A dial failure worth another attempt (refused, unreachable, timed out, dropped handshake). */
export class RetryableDialError extends UnavailableError {}

/** Delay before dial attempt `attempt + 1`: 0.5 s, 1 s, 2 s, 4 s, then 5 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** (attempt - 1), 5000);
}

export interface DialOptions {
  signal?: AbortSignal;
  sink?: LogSink;
  urn?: string;
  /** Overrides retryDelayMs (tests). */
  delayMs?: (attempt: number) => number;
}

/** "was cancelled", or the reason the operation's signal was aborted with (e.g. a timeout). */
export function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r.message : "was cancelled";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error(abortReason(signal)));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error(abortReason(signal)));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function authMethods(spec: ConnectionSpec, agent: string | undefined): ConnectConfig["authHandler"] {
  // The private key takes preference over the password (SDK docs).
  const methods: Array<"publickey" | "agent" | "password" | "keyboard-interactive"> = [];
  if (spec.privateKey) {
    methods.push("publickey");
  }
  if (agent) {
    methods.push("agent");
  }
  if (spec.password !== undefined) {
    methods.push("password", "keyboard-interactive");
  }
  return methods;
}

/** One connection attempt, directly or through an established jump-host connection. */
function dialOnce(
  spec: ConnectionSpec,
  via: Client | undefined,
  viaTarget: string,
  signal: AbortSignal | undefined,
): Promise<Client> {
  const target = describeTarget(spec);
  const pinned = spec.hostKey ? parseHostKey(spec.hostKey) : undefined;
  const agent = spec.agentSocketPath ?? optString(process.env["SSH_AUTH_SOCK"]);
  const methods = authMethods(spec, agent) as string[];
  if (methods.length === 0) {
    return Promise.reject(
      new Error(
        `no way to authenticate to ${target}: set connection.privateKey or connection.password, ` +
          "or connection.agentSocketPath (or SSH_AUTH_SOCK)",
      ),
    );
  }

  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    let mismatch: HostKeyMismatchError | undefined;
    const fail = (e: Error) => {
      if (settled) {
        return;
      }
      signal?.removeEventListener("abort", onAbort);
      settled = true;
      client.end();
      reject(e);
    };
    // Keep a listener for the whole life of the client: an unhandled 'error' would crash the plugin.
    client.on("error", (err: Error & { level?: string }) => {
      if (mismatch) {
        fail(mismatch);
      } else if (err.level === "client-authentication") {
        fail(
          new Error(
            `authentication failed for ${target} (tried ${methods.join(", ")}): check connection.user ` +
              "and connection.privateKey/privateKeyPassword/password",
          ),
        );
      } else if (err.level === "client-timeout") {
        fail(
          new RetryableDialError(
            `timed out after ${spec.perDialTimeout}s (perDialTimeout) dialing ${target}`,
          ),
        );
      } else {
        fail(new RetryableDialError(`dialing ${target}: ${err.message}`));
      }
    });
    client.on("close", () =>
      fail(mismatch ?? new RetryableDialError(`connection to ${target} closed during the handshake`)),
    );
    function onAbort(): void {
      fail(new Error(`connecting to ${target} ${abortReason(signal)}`));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    client.on("ready", () => {
      signal?.removeEventListener("abort", onAbort);
      settled = true;
      resolve(client);
    });
    client.on("keyboard-interactive", (_name, _instr, _lang, prompts, finish) => {
      finish(prompts.map(() => spec.password ?? ""));
    });

    const serverHostKey = pinned ? hostKeyAlgorithms(pinned.type) : undefined;
    const config: ConnectConfig = {
      host: spec.host,
      port: spec.port,
      username: spec.user,
      privateKey: spec.privateKey,
      passphrase: spec.privateKeyPassword,
      password: spec.password,
      agent,
      tryKeyboard: spec.password !== undefined,
      authHandler: methods as ConnectConfig["authHandler"],
      readyTimeout: spec.perDialTimeout > 0 ? spec.perDialTimeout * 1000 : 0,
      keepaliveInterval: 15000,
      keepaliveCountMax: 4,
      ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as never } } : {}),
      ...(pinned
        ? {
            hostVerifier: (key: Buffer) => {
              if (hostKeyMatches(pinned, key)) {
                return true;
              }
              mismatch = new HostKeyMismatchError(target, pinned, key);
              return false;
            },
          }
        : {}),
    };

    const start = (sock?: ClientChannel) => {
      try {
        client.connect(sock ? { ...config, sock } : config);
      } catch (e) {
        // ssh2 parses the private key synchronously; the message never contains key material.
        fail(new Error(`cannot use connection.privateKey for ${target}: ${(e as Error).message}`));
      }
    };
    if (via) {
      via.forwardOut("127.0.0.1", 0, spec.host, spec.port, (err, stream) => {
        if (err) {
          fail(
            new RetryableDialError(
              `jump host ${viaTarget} could not reach ${spec.host}:${spec.port}: ${err.message}`,
            ),
          );
        } else {
          start(stream);
        }
      });
    } else {
      start();
    }
  });
}

/**
 * Dials with retries: at most `dialErrorLimit` failed attempts (-1: unlimited; 0 counts as 1), with
 * a growing delay in between. Host key mismatches, authentication failures and unusable keys are
 * not retried.
 */
export async function dial(
  spec: ConnectionSpec,
  opts: DialOptions = {},
  via?: Client,
  viaTarget = "",
): Promise<Client> {
  const target = describeTarget(spec);
  const limit = spec.dialErrorLimit;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) {
      throw new Error(`connecting to ${target} ${abortReason(opts.signal)}`);
    }
    try {
      return await dialOnce(spec, via, viaTarget, opts.signal);
    } catch (e) {
      if (!(e instanceof RetryableDialError)) {
        throw e;
      }
      if (limit >= 0 && attempt >= Math.max(1, limit)) {
        throw new Error(
          `could not connect to ${target} after ${attempt} attempt${attempt === 1 ? "" : "s"} ` +
            `(connection.dialErrorLimit is ${limit}); last error: ${e.message}`,
        );
      }
      opts.sink?.log(
        "debug",
        opts.urn ?? "",
        `attempt ${attempt} to connect to ${target} failed: ${e.message}`,
      );
      try {
        await sleep((opts.delayMs ?? retryDelayMs)(attempt), opts.signal);
      } catch {
        throw new Error(`connecting to ${target} ${abortReason(opts.signal)}; last error: ${e.message}`);
      }
    }
  }
}

/** Connects (through `proxy` when set), runs `fn`, and always closes every connection. */
export async function withSsh<T>(
  spec: ConnectionSpec,
  opts: DialOptions,
  what: string,
  fn: (client: Client, target: string) => Promise<T>,
): Promise<T> {
  const clients: Client[] = [];
  let connected = false;
  const closeAll = () => {
    for (const c of [...clients].reverse()) {
      c.end();
    }
  };
  opts.signal?.addEventListener("abort", closeAll, { once: true });
  try {
    let via: Client | undefined;
    let target = describeTarget(spec);
    if (spec.proxy) {
      const proxyTarget = describeTarget(spec.proxy);
      via = await dial(spec.proxy, opts);
      clients.push(via);
      target = `${target} via ${proxyTarget}`;
      clients.push(await dial(spec, opts, via, proxyTarget));
    } else {
      clients.push(await dial(spec, opts));
    }
    connected = true;
    return await fn(clients[clients.length - 1], target);
  } catch (e) {
    // While dialing, the dial error already says what happened (and the last dial error).
    if (connected && opts.signal?.aborted) {
      throw new Error(`${what} on ${describeTarget(spec)} ${abortReason(opts.signal)}`);
    }
    throw e;
  } finally {
    opts.signal?.removeEventListener("abort", closeAll);
    closeAll();
  }
}

export interface RemoteRunSpec {
  step: string;
  command: string;
  environment: Record<string, string>;
  stdin?: string;
  /** What of the output may be logged and quoted in an error (outputVisibility). */
  shown: OutputVisibility;
  /** The command as an error message may quote it: its text, or "[secret]". */
  displayCommand: string;
  urn: string;
  sink: LogSink;
}

/**
 * Runs the user's command through the remote login shell. Environment variables go in front of it
 * as `export NAME='value'` lines (validated names, single-quoted values).
 */
export function execRemote(client: Client, target: string, spec: RemoteRunSpec): Promise<CommandOutput> {
  let commandString: string;
  try {
    commandString = remoteCommandString(spec.command, spec.environment);
  } catch (e) {
    return Promise.reject(e);
  }
  const interleaved: Buffer[] = [];
  const out = new StreamCollector(spec.sink, spec.urn, spec.shown.stdout, interleaved);
  const err = new StreamCollector(spec.sink, spec.urn, spec.shown.stderr, interleaved);
  return new Promise<CommandOutput>((resolve, reject) => {
    client.exec(commandString, (e, stream) => {
      if (e) {
        reject(new Error(`could not start the ${spec.step} command on ${target}: ${e.message}`));
        return;
      }
      const exit: Exit = { code: null, signal: null };
      let finished = false;
      let grace: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) {
          return;
        }
        finished = true;
        clearTimeout(grace);
        const stdout = out.finish();
        const stderr = err.finish();
        if (exit.code === 0) {
          resolve({ stdout: trimTrailingNewline(stdout), stderr: trimTrailingNewline(stderr) });
        } else {
          reject(
            commandFailed({
              exit,
              runner: "remote",
              command: spec.displayCommand,
              output: Buffer.concat(interleaved).toString("utf8"),
              shown: spec.shown,
            }),
          );
        }
      };
      stream.on("exit", (code: number | null, signal?: string) => {
        if (typeof code === "number") {
          exit.code = code;
        } else {
          exit.signal = signal ? `SIG${signal}` : null;
        }
        // sshd keeps the channel open while a background process holds the output open.
        grace = setTimeout(() => {
          finish();
          stream.close();
        }, OUTPUT_GRACE_MS);
      });
      stream.on("data", (d: Buffer) => out.write(d));
      stream.stderr.on("data", (d: Buffer) => err.write(d));
      stream.on("error", () => undefined);
      stream.on("close", finish);
      stream.end(spec.stdin ?? "");
    });
  });
}
