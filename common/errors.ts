// One error model for every layer (after origin-server's OOException/UserException and dokku's
// ErrWithExitCode): an error carries its kind, its CLI exit code and its HTTP status, so no caller keeps a
// mapping table. The CLIs print errors through failFor (common/cli-fail.ts); the broker will answer with
// `httpStatus`, and the node agent will reply with `kind` (and `exitCode`). No I/O here.

/**
 * Exit codes of every geartrain CLI. OK, DRIFT, CHANGES and POLICY are results (a command that ran and found
 * drift, failed checks, changes or policy violations); every other code is the `exitCode` of an error below.
 */
export const EXIT = {
  OK: 0,
  /** the operation ran and failed (a hook, a host command, a deploy), or a prerequisite is missing */
  FAILED: 1,
  USAGE: 2,
  /** invalid input (the message names the field) or an invalid cartridge; nothing was changed */
  INVALID: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
  DRIFT: 6,
  /** `geartrain review`: the preview has changes (and no mandatory policy failed) */
  CHANGES: 7,
  /** `geartrain review`: a mandatory policy of the policy pack failed */
  POLICY: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every kind an error reports; "error" is an error of no Geartrain kind (a bug, or an unforeseen failure). */
export type ErrorKind =
  | "error"
  | "usage"
  | "invalid"
  | "invalid_cartridge"
  | "invalid_config"
  | "not_found"
  | "conflict"
  | "failed"
  | "command_failed"
  | "hook_failed"
  | "deploy_failed"
  | "frontend_failed"
  | "unavailable"
  | "refused";

export interface ErrorClass {
  readonly kind: ErrorKind;
  readonly exitCode: ExitCode;
  readonly httpStatus: number;
  /** the input field the error is about (a key path such as `env.FOO` or `hostnames[0]`) */
  readonly field?: string;
}

/** The base of every error Geartrain throws on purpose. */
export class GeartrainError extends Error implements ErrorClass {
  readonly kind: ErrorKind;
  readonly exitCode: ExitCode;
  readonly httpStatus: number;
  readonly field?: string;

  constructor(message: string, cls: ErrorClass) {
    super(message);
    this.name = new.target.name;
    this.kind = cls.kind;
    this.exitCode = cls.exitCode;
    this.httpStatus = cls.httpStatus;
    if (cls.field !== undefined) this.field = cls.field;
  }

  /** Members the error adds to its JSON form beside kind, message and field (e.g. a hook's exit code). */
  details(): Record<string, unknown> {
    return {};
  }
}

/** A command line the CLI does not understand (unknown command or flag, missing argument). */
export class UsageError extends GeartrainError {
  constructor(message: string) {
    super(message, { kind: "usage", exitCode: EXIT.USAGE, httpStatus: 400 });
  }
}

/** Input that fails validation; the message always names the field. Nothing was changed. */
export class ValidationError extends GeartrainError {
  declare readonly field: string;

  constructor(field: string, message: string) {
    super(`invalid ${field}: ${message}`, {
      kind: "invalid",
      exitCode: EXIT.INVALID,
      // the broker answers validation failures 422 with the field, as OpenShift's REST API does
      httpStatus: 422,
      field,
    });
  }
}

/** The gear, cartridge, deployment ... the request names does not exist. */
export class NotFoundError extends GeartrainError {
  constructor(message: string) {
    super(message, { kind: "not_found", exitCode: EXIT.NOT_FOUND, httpStatus: 404 });
  }
}

/** The request contradicts what exists (a taken uid, another spec for the same uuid, a destroy in progress). */
export class ConflictError extends GeartrainError {
  constructor(message: string) {
    super(message, { kind: "conflict", exitCode: EXIT.CONFLICT, httpStatus: 409 });
  }
}

/** The operation ran and failed: a hook, a host command, a deploy. `kind` says which. */
export class OperationFailedError extends GeartrainError {
  constructor(
    message: string,
    kind: Extract<
      ErrorKind,
      "failed" | "command_failed" | "hook_failed" | "deploy_failed" | "frontend_failed"
    > = "failed",
  ) {
    super(message, { kind, exitCode: EXIT.FAILED, httpStatus: 500 });
  }
}

/**
 * A prerequisite or host facility is missing (a tool, a kernel feature, a host that does not answer). Exit 1,
 * as every CLI documents "missing prerequisite"; HTTP 503, since the request may succeed once it is there.
 */
export class UnavailableError extends GeartrainError {
  constructor(message: string) {
    super(message, { kind: "unavailable", exitCode: EXIT.FAILED, httpStatus: 503 });
  }
}

/** A request understood and refused on purpose (a forbidden command, a host key that is not the pinned one). */
export class RefusedError extends GeartrainError {
  constructor(message: string) {
    super(message, { kind: "refused", exitCode: EXIT.FAILED, httpStatus: 403 });
  }
}

/** What any thrown value reports: its class, message and JSON details. */
export interface ErrorReport extends ErrorClass {
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** The message of any thrown value (duck-typed: errors of node's own realm fail `instanceof Error` under jest). */
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(err);
}

/** node's util.parseArgs throws TypeErrors with these codes for unknown or malformed flags. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

/**
 * The report of any thrown value: a GeartrainError as it is, a parseArgs error as a usage error, anything
 * else as kind "error" (exit 1, HTTP 500).
 */
export function reportOf(err: unknown): ErrorReport {
  const e = isParseArgsError(err) ? new UsageError(messageOf(err)) : err;
  if (e instanceof GeartrainError) {
    return {
      kind: e.kind,
      exitCode: e.exitCode,
      httpStatus: e.httpStatus,
      ...(e.field !== undefined ? { field: e.field } : {}),
      message: e.message,
      details: e.details(),
    };
  }
  return { kind: "error", exitCode: EXIT.FAILED, httpStatus: 500, message: messageOf(e), details: {} };
}

/** The JSON error object every CLI prints on stdout: `{ error: { kind, message, field?, ...details } }`. */
export function errorJson(report: ErrorReport): { error: Record<string, unknown> } {
  return {
    error: {
      kind: report.kind,
      message: report.message,
      ...(report.field !== undefined ? { field: report.field } : {}),
      ...report.details,
    },
  };
}
