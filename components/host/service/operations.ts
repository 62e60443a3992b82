// A Service's operations on its host: status (read only), apply and remove, each one run of SERVICE_SCRIPT
// through a transport: a local child process, or one SSH session (ssh2, the pinned host key, dial retries
// with a delay). Only the provider (provider.ts) calls these. Values go as validated arguments; file
// contents, secrets included, only on stdin.
import { execFile } from "child_process";
import * as crypto from "crypto";
import { Client } from "ssh2";
import { SERVICE_SCRIPT } from "./host-script";
import { parseStatus, servicePaths, ServiceSpec, ServiceStatus } from "./model";
import { renderDefinition, renderEnvironmentFile, RenderedFile, shellQuote } from "./render";

export type ServiceConnection =
  | { readonly type: "local" }
  | {
      readonly type: "ssh";
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly hostKey: string;
      readonly privateKey: string;
      readonly perDialTimeout: number;
      /** Failed dials before giving up (-1 counts as the default budget: a Service never waits forever). */
      readonly dialErrorLimit: number;
    };

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_DIALS = 10;

function runLocal(argv: string[], stdin: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0], argv.slice(1), { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      if (err && typeof err.code !== "number") reject(err);
      else resolve({ code, stdout, stderr });
    });
    child.stdin?.end(stdin);
  });
}

function dialOnce(c: Extract<ServiceConnection, { type: "ssh" }>): Promise<Client> {
  const [keyType, keyBlob] = c.hostKey.trim().split(/\s+/);
  const pinned = Buffer.from(keyBlob ?? "", "base64");
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () => resolve(client))
      .on("error", (err) => reject(err))
      .connect({
        host: c.host,
        port: c.port,
        username: c.user,
        privateKey: c.privateKey,
        readyTimeout: c.perDialTimeout * 1000,
        algorithms: { serverHostKey: [keyType as never] },
        hostVerifier: (key: Buffer) => key.equals(pinned),
      });
  });
}

async function dial(c: Extract<ServiceConnection, { type: "ssh" }>): Promise<Client> {
  const budget = c.dialErrorLimit > 0 ? c.dialErrorLimit : DEFAULT_DIALS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await dialOnce(c);
    } catch (err) {
      const message = (err as Error).message;
      if (/authentication|verif/i.test(message) || attempt >= budget) {
        throw new Error(
          `could not connect to ${c.user}@${c.host}:${c.port} after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${message}`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** (attempt - 1), 5000)));
    }
  }
}

async function runSsh(c: Extract<ServiceConnection, { type: "ssh" }>, argv: string[], stdin: string) {
  const client = await dial(c);
  try {
    return await new Promise<RunResult>((resolve, reject) => {
      client.exec(argv.map(shellQuote).join(" "), (err, stream) => {
        if (err) return reject(err);
        let stdout = "";
        let stderr = "";
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", (code: number | null) => resolve({ code: code ?? -1, stdout, stderr }));
        stream.end(stdin);
      });
    });
  } finally {
    client.end();
  }
}

/** Runs one action of the host script on the service's host. */
export function runAction(conn: ServiceConnection, args: string[], stdin: string): Promise<RunResult> {
  const argv = ["/bin/bash", "-c", SERVICE_SCRIPT, "geartrain-service", ...args];
  return conn.type === "local" ? runLocal(argv, stdin) : runSsh(conn, argv, stdin);
}

function baseArgs(action: string, spec: ServiceSpec): string[] {
  return [action, spec.backend, spec.serviceDirectory, spec.name];
}

/** Every file of the service, the environment file included (it carries the secrets). */
export function serviceFiles(spec: ServiceSpec, env: Readonly<Record<string, string>>): RenderedFile[] {
  const envFile = renderEnvironmentFile(spec, env);
  return [...renderDefinition(spec), ...(envFile ? [envFile] : [])];
}

/** sha256 of each file's content, by name: what `status` on the host is compared with. */
export function fileHashes(files: readonly RenderedFile[]): Record<string, string> {
  return Object.fromEntries(
    files.map((f) => [f.name, crypto.createHash("sha256").update(f.content).digest("hex")]),
  );
}

function failure(spec: ServiceSpec, host: string, what: string, r: RunResult): Error {
  const detail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n");
  return new Error(`service '${spec.name}' on host '${host}': ${what} failed (exit ${r.code}): ${detail}`);
}

export async function statusOf(
  conn: ServiceConnection,
  host: string,
  spec: ServiceSpec,
  files: readonly RenderedFile[],
): Promise<ServiceStatus> {
  const stdin = files.map((f) => `${f.name} ${f.path}\n`).join("");
  const r = await runAction(conn, baseArgs("status", spec), stdin);
  if (r.code !== 0) throw failure(spec, host, "status", r);
  return parseStatus(r.stdout);
}

function describeReadiness(spec: ServiceSpec): string {
  const r = spec.readiness;
  if (r === null) return "the process to be running";
  return r.kind === "tcp"
    ? `readiness.tcp ${r.address}:${r.port} to accept a connection`
    : `readiness.command ${JSON.stringify(r.command)} to exit 0`;
}

/** Writes the files, starts the supervisor and the service (restarts it when a file changed), waits. */
export async function applyService(
  conn: ServiceConnection,
  host: string,
  spec: ServiceSpec,
  env: Readonly<Record<string, string>>,
): Promise<void> {
  const files = serviceFiles(spec, env);
  const stdin = files
    .map((f) => `${f.mode} ${f.path} ${Buffer.from(f.content).toString("base64")}\n`)
    .join("");
  const args = [
    ...baseArgs("apply", spec),
    String(spec.stopTimeoutSeconds),
    String(spec.readinessAttempts),
    String(spec.readinessIntervalSeconds),
  ];
  const r = await runAction(conn, args, stdin);
  if (r.code === 3) {
    const last = r.stdout.trim().split("\n").pop() ?? "";
    let state = "unknown";
    try {
      state = (JSON.parse(last) as { state?: string }).state ?? state;
    } catch {
      // keep "unknown"
    }
    const tries = ` after ${spec.readinessAttempts} attempts ${spec.readinessIntervalSeconds}s apart`;
    throw new Error(
      `service '${spec.name}' on host '${host}' did not become ready: waited for ${describeReadiness(spec)}${tries} ` +
        `(its state: ${state}); see ${servicePaths(spec).logHint}`,
    );
  }
  if (r.code !== 0) throw failure(spec, host, "apply", r);
}

/** Stops the service and removes its files; a service already gone is fine. */
export async function removeService(conn: ServiceConnection, host: string, spec: ServiceSpec): Promise<void> {
  const r = await runAction(conn, [...baseArgs("remove", spec), String(spec.stopTimeoutSeconds)], "");
  if (r.code !== 0) throw failure(spec, host, "remove", r);
}
