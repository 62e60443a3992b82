// A failed reply back into the GeartrainError of its kind (pure): the broker throws what the node threw,
// with the node's message, field, exit code and details, so its HTTP status follows from the kind alone.

import {
  ConflictError,
  EXIT,
  GeartrainError,
  NotFoundError,
  OperationFailedError,
  RefusedError,
  UnavailableError,
  UsageError,
  ValidationError,
  type ExitCode,
  type ErrorKind,
} from "../../common/errors";
import type { Action, BusError } from "./actions";

/** An error of a kind no common class stands for (invalid_cartridge, invalid_config, error). */
export class RemoteNodeError extends GeartrainError {}

function base(err: BusError): GeartrainError {
  switch (err.kind) {
    case "invalid":
      return new ValidationError(err.field ?? "args", err.message);
    case "not_found":
      return new NotFoundError(err.message);
    case "conflict":
      return new ConflictError(err.message);
    case "failed":
    case "command_failed":
    case "hook_failed":
    case "deploy_failed":
    case "frontend_failed":
      return new OperationFailedError(err.message, err.kind);
    case "unavailable":
      return new UnavailableError(err.message);
    case "refused":
      return new RefusedError(err.message);
    case "usage":
      return new UsageError(err.message);
    default: {
      const invalid = err.kind === "invalid_cartridge" || err.kind === "invalid_config";
      return new RemoteNodeError(err.message, {
        kind: err.kind as ErrorKind,
        exitCode: (invalid ? EXIT.INVALID : EXIT.FAILED) as ExitCode,
        httpStatus: invalid ? new ValidationError("args", err.message).httpStatus : 500,
        ...(err.field !== undefined ? { field: err.field } : {}),
      });
    }
  }
}

export interface RemoteErrorInfo {
  readonly node: string;
  readonly action: Action;
  readonly requestId: string;
}

/** The error a NodeBus call throws for a failed reply; `remote` says which node and action. */
export function errorFromReply(
  err: BusError,
  info: RemoteErrorInfo,
): GeartrainError & { remote: RemoteErrorInfo } {
  const e = base(err) as GeartrainError & { remote: RemoteErrorInfo };
  // the node's own words (ValidationError would prefix "invalid <field>: " a second time)
  Object.defineProperty(e, "message", {
    value: err.message,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  if (err.field !== undefined && e.field === undefined)
    Object.defineProperty(e, "field", { value: err.field });
  const details = { ...(err.details ?? {}) };
  e.details = () => details;
  e.remote = info;
  return e;
}
