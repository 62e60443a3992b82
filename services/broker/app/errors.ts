// The broker's own errors: each extends the common class of its meaning (common/errors.ts: kind, exit code,
// HTTP status, field) and carries origin-server's broker code (the `exit_code` of a REST message, which rhc
// turns into its own exit status: 127 domain not found, 101 application not found). rest/errors.ts is the one
// place that maps any error to a reply.

import {
  ConflictError,
  NotFoundError,
  RefusedError,
  UnavailableError,
  ValidationError,
} from "../../../common/errors";

/** origin-server's broker exit codes that we use (controller/app/..., rhc's exceptions). */
export const ORIGIN_CODE = {
  GENERIC: 1,
  APP_NAME_TAKEN: 100,
  APP_NOT_FOUND: 101,
  NAMESPACE_TAKEN: 103,
  GEAR_LIMIT: 104,
  INVALID_APP_NAME: 105,
  INVALID_NAMESPACE: 106,
  INVALID_KEY_CONTENT: 108,
  INVALID_CARTRIDGE: 109,
  INVALID_KEY_TYPE: 116,
  INVALID_KEY_NAME: 117,
  KEY_NAME_TAKEN: 120,
  KEY_CONTENT_TAKEN: 121,
  INVALID_EVENT: 126,
  DOMAIN_NOT_FOUND: 127,
  DOMAIN_NOT_EMPTY: 128,
  NO_NODE: 140,
  KEY_NOT_FOUND: 118,
} as const;

/** An error that carries an origin broker code for its REST message. */
export interface HasOriginCode {
  readonly originCode: number;
}

export function originCodeOf(err: unknown): number | undefined {
  const c = (err as Partial<HasOriginCode> | null)?.originCode;
  return typeof c === "number" ? c : undefined;
}

export class DomainNotFoundError extends NotFoundError implements HasOriginCode {
  readonly originCode = ORIGIN_CODE.DOMAIN_NOT_FOUND;
  constructor(name: string) {
    super(`Domain '${name}' not found`);
  }
}

export class ApplicationNotFoundError extends NotFoundError implements HasOriginCode {
  readonly originCode = ORIGIN_CODE.APP_NOT_FOUND;
  constructor(name: string) {
    super(`Application '${name}' not found`);
  }
}

export class KeyNotFoundError extends NotFoundError implements HasOriginCode {
  readonly originCode = ORIGIN_CODE.KEY_NOT_FOUND;
  constructor(name: string) {
    super(`SSH key '${name}' not found`);
  }
}

export class BrokerNotFoundError extends NotFoundError implements HasOriginCode {
  readonly originCode: number = ORIGIN_CODE.GENERIC;
}

/** A conflict with an origin code and the field it is about (e.g. namespace in use: 103, field id). */
export class BrokerConflictError extends ConflictError implements HasOriginCode {
  declare readonly field?: string;
  constructor(
    message: string,
    readonly originCode: number,
    field?: string,
  ) {
    super(message);
    if (field !== undefined) (this as { field?: string }).field = field;
  }
}

/** A validation error with its origin code (105 invalid app name, 109 invalid cartridge ...). */
export class BrokerValidationError extends ValidationError implements HasOriginCode {
  constructor(
    field: string,
    message: string,
    readonly originCode: number = ORIGIN_CODE.GENERIC,
  ) {
    super(field, message);
  }
}

/** Over a limit the user has (gears, domains): origin answered 409 with 104 for gears. */
export class LimitError extends BrokerConflictError {}

/** No node can take the gear (origin: NodeUnavailableException, exit 140). */
export class NoNodeAvailableError extends UnavailableError implements HasOriginCode {
  readonly originCode = ORIGIN_CODE.NO_NODE;
}

/** A non-admin asking for the admin API. */
export class AdminOnlyError extends RefusedError {
  constructor() {
    super("this operation needs the admin role");
  }
}
