// The Service's pure model: validation of ServiceArgs (a ValidationError naming the field), the resolved
// spec the renderers and the provider read, where each backend keeps its files, and what a status report
// from the host means (drift). No I/O and no Pulumi import.
import { ValidationError } from "../../../common/errors";
import { RestartPolicy, SERVICE_DEFAULTS, ServiceBackend, STOP_SIGNALS, StopSignal } from "./args";

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/;
const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/@+-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ADDRESS = /^[A-Za-z0-9.:-]{1,253}$/;
// Control characters would end a unit line or a script line; nothing a command line needs.
const CONTROL = /[\u0000-\u001f\u007f]/;
const RESTART_POLICIES: readonly RestartPolicy[] = ["always", "on-failure", "no"];
const BACKENDS: readonly ServiceBackend[] = ["systemd", "runit"];

export type Readiness =
  | { readonly kind: "tcp"; readonly address: string; readonly port: number }
  | { readonly kind: "command"; readonly command: readonly string[] };

/** A service with every default applied and every list sorted: what is rendered and stored. */
export interface ServiceSpec {
  readonly name: string;
  readonly backend: ServiceBackend;
  /** Root of Geartrain's service files on the host (HostArgs.serviceDirectory). */
  readonly serviceDirectory: string;
  readonly command: readonly string[];
  readonly user: string;
  /** null: the user's primary group. */
  readonly group: string | null;
  readonly workingDirectory: string;
  /** Names of the environment variables, sorted (the values travel apart: they may be secrets). */
  readonly environmentNames: readonly string[];
  readonly restart: RestartPolicy;
  readonly readiness: Readiness | null;
  readonly readinessAttempts: number;
  readonly readinessIntervalSeconds: number;
  readonly stopSignal: StopSignal;
  readonly stopTimeoutSeconds: number;
  /** Names of the services of the same host this one needs, sorted. */
  readonly requires: readonly string[];
}

/** What the pure validation takes: ServiceArgs with plain values, the backend and directory resolved. */
export interface ServiceSpecInput {
  readonly name: string;
  readonly backend: string;
  readonly serviceDirectory: string;
  readonly command: readonly string[];
  readonly user?: string;
  readonly group?: string;
  readonly workingDirectory?: string;
  readonly environmentNames?: readonly string[];
  readonly restart?: string;
  readonly readiness?: {
    readonly tcp?: { readonly address: string; readonly port: number };
    readonly command?: readonly string[];
    readonly attempts?: number;
    readonly intervalSeconds?: number;
  };
  readonly stopSignal?: string;
  readonly stopTimeoutSeconds?: number;
  readonly requires?: readonly string[];
}

export function validateServiceName(name: string, field = "name"): string {
  if (typeof name !== "string" || !SERVICE_NAME.test(name)) {
    throw new ValidationError(
      field,
      `service name '${name}' must match ${SERVICE_NAME} (lowercase letters, digits and '-', at most 40)`,
    );
  }
  return name;
}

function validatePath(value: unknown, field: string): string {
  if (typeof value !== "string" || !ABSOLUTE_PATH.test(value) || value.split("/").includes("..")) {
    throw new ValidationError(
      field,
      `'${String(value)}' must be an absolute path of [A-Za-z0-9._/@+-] with no '..' segment`,
    );
  }
  return value;
}

function validateArgv(argv: unknown, field: string): string[] {
  if (!Array.isArray(argv) || argv.length === 0)
    throw new ValidationError(field, "must be a non-empty array: the program, then its arguments");
  argv.forEach((arg, i) => {
    if (typeof arg !== "string") throw new ValidationError(`${field}[${i}]`, "must be a string");
    if (CONTROL.test(arg))
      throw new ValidationError(`${field}[${i}]`, "must not contain control characters (newline, tab, NUL)");
  });
  validatePath(argv[0], `${field}[0]`);
  return [...(argv as string[])];
}

function validateInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ValidationError(field, `must be an integer in ${min}..${max}, got ${String(value)}`);
  return value;
}

function validateAccount(value: unknown, field: string): string {
  if (typeof value !== "string" || !ACCOUNT.test(value))
    throw new ValidationError(field, `'${String(value)}' must match ${ACCOUNT}`);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T))
    throw new ValidationError(field, `'${String(value)}' must be one of ${allowed.join(", ")}`);
  return value as T;
}

export function validateEnvironmentName(name: string): string {
  if (!ENV_NAME.test(name))
    throw new ValidationError(`environment.${name}`, `variable name must match ${ENV_NAME}`);
  return name;
}

/**
 * Values are checked when they are known (at create/update, secrets included): they become one line of the
 * environment file, so no NUL, CR or newline. The message names the variable, never the value.
 */
export function validateEnvironmentValues(env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    validateEnvironmentName(name);
    if (typeof value !== "string")
      throw new ValidationError(`environment.${name}`, "the value must be a string");
    if (/[\0\r\n]/.test(value))
      throw new ValidationError(`environment.${name}`, "the value must not contain NUL, CR or newline");
  }
}

function resolveReadiness(r: ServiceSpecInput["readiness"]): Readiness | null {
  if (r === undefined) return null;
  if ((r.tcp === undefined) === (r.command === undefined))
    throw new ValidationError("readiness", "give exactly one of readiness.tcp or readiness.command");
  if (r.tcp !== undefined) {
    if (typeof r.tcp.address !== "string" || !ADDRESS.test(r.tcp.address))
      throw new ValidationError(
        "readiness.tcp.address",
        `'${r.tcp.address}' must be an IP address or a host name`,
      );
    return {
      kind: "tcp",
      address: r.tcp.address,
      port: validateInteger(r.tcp.port, "readiness.tcp.port", 1, 65535),
    };
  }
  return { kind: "command", command: validateArgv(r.command, "readiness.command") };
}

/** Validates and resolves; the first bad field is reported. */
export function resolveService(input: ServiceSpecInput): ServiceSpec {
  const name = validateServiceName(input.name);
  const backend = oneOf(input.backend, "backend", BACKENDS);
  const serviceDirectory = validatePath(input.serviceDirectory, "serviceDirectory");
  const command = validateArgv(input.command, "command");
  const user = validateAccount(input.user ?? SERVICE_DEFAULTS.user, "user");
  const group =
    input.group !== undefined ? validateAccount(input.group, "group") : user === "root" ? "root" : null;
  const workingDirectory = validatePath(
    input.workingDirectory ?? SERVICE_DEFAULTS.workingDirectory,
    "workingDirectory",
  );
  const environmentNames = [...(input.environmentNames ?? [])].map(validateEnvironmentName).sort();
  const restart = oneOf(input.restart ?? SERVICE_DEFAULTS.restart, "restart", RESTART_POLICIES);
  const readiness = resolveReadiness(input.readiness);
  const readinessAttempts = validateInteger(
    input.readiness?.attempts ?? SERVICE_DEFAULTS.readinessAttempts,
    "readiness.attempts",
    1,
    10000,
  );
  const interval = input.readiness?.intervalSeconds ?? SERVICE_DEFAULTS.readinessIntervalSeconds;
  if (typeof interval !== "number" || !(interval >= 0.1 && interval <= 3600))
    throw new ValidationError("readiness.intervalSeconds", `must be a number in 0.1..3600, got ${interval}`);
  const stopSignal = oneOf(input.stopSignal ?? SERVICE_DEFAULTS.stopSignal, "stopSignal", STOP_SIGNALS);
  const stopTimeoutSeconds = validateInteger(
    input.stopTimeoutSeconds ?? SERVICE_DEFAULTS.stopTimeoutSeconds,
    "stopTimeoutSeconds",
    1,
    3600,
  );
  const requires = [...new Set(input.requires ?? [])].map((r, i) => validateServiceName(r, `requires[${i}]`));
  if (requires.includes(name))
    throw new ValidationError("requires", `service '${name}' cannot require itself`);
  return {
    name,
    backend,
    serviceDirectory,
    command,
    user,
    group,
    workingDirectory,
    environmentNames,
    restart,
    readiness,
    readinessAttempts,
    readinessIntervalSeconds: interval,
    stopSignal,
    stopTimeoutSeconds,
    requires: requires.sort(),
  };
}

/** Where a service's files live on its host. */
export interface ServicePaths {
  /** The directory holding the service's own files (runit service dir, or systemd env + check). */
  readonly dir: string;
  /** systemd: the unit file; runit: the link in the scan directory. */
  readonly entry: string;
  readonly environmentFile: string;
  readonly checkScript: string;
  /** Where its output goes, for error messages. */
  readonly logHint: string;
}

export function unitName(name: string): string {
  return `geartrain-${name}.service`;
}

export function runitRoot(serviceDirectory: string): string {
  return `${serviceDirectory}/runit`;
}

export function servicePaths(spec: Pick<ServiceSpec, "name" | "backend" | "serviceDirectory">): ServicePaths {
  if (spec.backend === "systemd") {
    const dir = `${spec.serviceDirectory}/systemd/${spec.name}`;
    return {
      dir,
      entry: `${SERVICE_DEFAULTS.systemdUnitDirectory}/${unitName(spec.name)}`,
      environmentFile: `${dir}/environment`,
      checkScript: `${dir}/check`,
      logHint: `journalctl -u ${unitName(spec.name)}`,
    };
  }
  const dir = `${runitRoot(spec.serviceDirectory)}/sv/${spec.name}`;
  return {
    dir,
    entry: `${runitRoot(spec.serviceDirectory)}/service/${spec.name}`,
    environmentFile: `${dir}/env`,
    checkScript: `${dir}/check`,
    logHint: `${dir}/log/main/current`,
  };
}

/** What the host reports about a service (the `status` action of the host script). */
export interface ServiceStatus {
  /** runit: our runsvdir runs; systemd: always true. */
  readonly supervisor: boolean;
  /** "run": the daemon runs; anything else ("down", "absent", "failed", ...): it does not. */
  readonly state: string;
  /** sha256 of each definition file found on the host, by its name in the rendered set. */
  readonly files: Readonly<Record<string, string>>;
}

/** Why `up` must act on a service whose inputs did not change; empty when it runs as declared. */
export function serviceDrift(status: ServiceStatus, expected: Readonly<Record<string, string>>): string[] {
  const reasons: string[] = [];
  if (!status.supervisor) reasons.push("its supervisor (runsvdir) is not running");
  if (status.state !== "run") reasons.push(`it is not running (${status.state})`);
  const names = [...new Set([...Object.keys(expected), ...Object.keys(status.files)])].sort();
  const changed = names.filter((n) => expected[n] !== status.files[n]);
  if (changed.length > 0) reasons.push(`its files differ from the declared ones (${changed.join(", ")})`);
  return reasons;
}

export function parseStatus(stdout: string): ServiceStatus {
  const line = stdout.trim().split("\n").pop() ?? "";
  const parsed = JSON.parse(line) as ServiceStatus;
  if (typeof parsed.state !== "string" || typeof parsed.files !== "object")
    throw new Error(`unexpected service status: ${line}`);
  return { supervisor: parsed.supervisor === true, state: parsed.state, files: parsed.files ?? {} };
}
