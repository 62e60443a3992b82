// A Service's operations on its host: status (read only), apply and remove, each one run of SERVICE_SCRIPT
// through the host transport (components/host/transport.ts: a local child process, or one SSH session with
// the pinned host key). Only the provider (provider.ts) calls these. Values go as validated arguments; file
// contents, secrets included, only on stdin.
import * as crypto from "crypto";
import { HostTransport, RunResult, runOn } from "../transport";
import { SERVICE_SCRIPT } from "./host-script";
import { parseStatus, servicePaths, ServiceSpec, ServiceStatus } from "./model";
import { renderDefinition, renderEnvironmentFile, RenderedFile } from "./render";

/** How a Service's provider reaches its host (components/host/transport.ts). */
export type ServiceConnection = HostTransport;
export type { RunResult } from "../transport";

/** Runs one action of the host script on the service's host. */
export function runAction(conn: ServiceConnection, args: string[], stdin: string): Promise<RunResult> {
  return runOn(conn, ["/bin/bash", "-c", SERVICE_SCRIPT, "geartrain-service", ...args], stdin);
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
