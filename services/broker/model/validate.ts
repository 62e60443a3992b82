// The broker's name rules (pure): every value the store writes passes one of these first, so bad input fails
// with a ValidationError naming the field and nothing is written. Patterns follow origin-server's models
// (domain namespace and application name: alphanumeric, ≤16 and ≤32; district name `[\w.-]+`).

import { ValidationError } from "../../../common/errors";
import { ENV_NAME_PATTERN } from "../../../common/env-names";
import { GEAR_PROFILES, type GearProfile } from "../../../common/profiles";
import { SSH_KEY_NAME_PATTERN, SSH_KEY_TYPES } from "../../../common/ssh-keys";
import type { Role } from "./types";

export const ID_PATTERN = /^[0-9a-f]{32}$/;
export const LOGIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,255}$/;
export const NAMESPACE_PATTERN = /^[a-z0-9]{1,16}$/i;
export const APP_NAME_PATTERN = /^[a-z0-9]{1,32}$/i;
export const DISTRICT_NAME_PATTERN = /^[\w.-]{1,64}$/;
/** a node's identity on the bus: a host name */
export const NODE_IDENTITY_PATTERN = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;
export const CARTRIDGE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
export const CARTRIDGE_VERSION_PATTERN = /^[0-9][0-9A-Za-z._-]{0,31}$/;
export { SSH_KEY_NAME_PATTERN, SSH_KEY_TYPES };
export const SSH_KEY_CONTENT_PATTERN = /^[A-Za-z0-9+/]{16,16384}={0,3}$/;
export const SCOPE_PATTERN = /^[a-z][a-z0-9_:/.-]{0,127}$/;
/** UIDs a district may hand out: from origin's DISTRICTS_FIRST_UID floor to the last UID with an MCS pair */
export const MIN_UID = 1000;
export const MAX_UID = 523_776;

function check(field: string, value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== "string") throw new ValidationError(field, `must be a string (${what})`);
  if (!pattern.test(value)) throw new ValidationError(field, `'${value.slice(0, 80)}' is not ${what}`);
  return value;
}

export const validateId = (field: string, v: unknown): string =>
  check(field, v, ID_PATTERN, "an id of 32 lowercase hex digits");
export const validateLogin = (v: unknown, field = "login"): string =>
  check(field, v, LOGIN_PATTERN, "a login (letters, digits, @._+-, up to 256)");
export const validateNamespace = (v: unknown, field = "namespace"): string =>
  check(field, v, NAMESPACE_PATTERN, "a namespace (letters and digits, up to 16)");
export const validateAppName = (v: unknown, field = "name"): string =>
  check(field, v, APP_NAME_PATTERN, "an application name (letters and digits, up to 32)");
export const validateDistrictName = (v: unknown, field = "name"): string =>
  check(field, v, DISTRICT_NAME_PATTERN, "a district name (letters, digits, _.-, up to 64)");
export const validateNodeIdentity = (v: unknown, field = "node"): string =>
  check(field, v, NODE_IDENTITY_PATTERN, "a node identity (a lower-case host name)");
export const validateCartridgeName = (v: unknown, field = "name"): string =>
  check(field, v, CARTRIDGE_NAME_PATTERN, "a cartridge name");
export const validateCartridgeVersion = (v: unknown, field = "version"): string =>
  check(field, v, CARTRIDGE_VERSION_PATTERN, "a cartridge version");
export const validateSshKeyName = (v: unknown, field = "name"): string =>
  check(
    field,
    v,
    SSH_KEY_NAME_PATTERN,
    "a key name (a letter or digit, then letters, digits and ._@+-, up to 64)",
  );
export const validateSshKeyContent = (v: unknown, field = "content"): string =>
  check(field, v, SSH_KEY_CONTENT_PATTERN, "a base64 public key body");
export const validateScope = (v: unknown, field = "scope"): string =>
  check(field, v, SCOPE_PATTERN, "a scope");

export function validateEnvName(v: unknown, field = "name"): string {
  return check(field, v, ENV_NAME_PATTERN, "an environment variable name ([A-Z_][A-Z0-9_]*, up to 128)");
}

export function validateOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new ValidationError(field, `must be one of ${allowed.join(", ")}`);
  }
  return v as T;
}

export const validateProfile = (v: unknown, field = "profile"): GearProfile =>
  validateOneOf(field, v, GEAR_PROFILES);
export const validateRole = (v: unknown, field = "role"): Role => validateOneOf(field, v, ["user", "admin"]);

export function validateInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new ValidationError(field, "must be an integer");
  if (v < min || v > max) throw new ValidationError(field, `${v} is outside ${min}-${max}`);
  return v;
}

export function validateString(field: string, v: unknown, maxLength: number): string {
  if (typeof v !== "string") throw new ValidationError(field, "must be a string");
  if (v.length > maxLength) throw new ValidationError(field, `is longer than ${maxLength} characters`);
  return v;
}

/** A district's UID block: within the node layer's range, first_uid + uid_count - 1 ≤ MAX_UID. */
export function validateUidBlock(
  firstUid: unknown,
  uidCount: unknown,
): { firstUid: number; uidCount: number } {
  const first = validateInt("first_uid", firstUid, MIN_UID, MAX_UID);
  const count = validateInt("uid_count", uidCount, 1, 100_000);
  if (first + count - 1 > MAX_UID) {
    throw new ValidationError("uid_count", `${first}+${count} goes past the largest UID ${MAX_UID}`);
  }
  return { firstUid: first, uidCount: count };
}
