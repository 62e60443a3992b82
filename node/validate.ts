// Strict input validation. Every value that reaches a host command passes one of these first.
// Messages have fixed wording and always name the field, so callers (CLI, agent) can show them as-is.

import { ENV_NAME_PATTERN, RESERVED_ENV_NAMES } from "../common/env-names";
import { ValidationError } from "../common/errors";
import type { GearSpec, NodeConfig } from "./types";

/** A gear UUID: exactly 32 lowercase hex characters. */
export const UUID_PATTERN = /^[0-9a-f]{32}$/;
/** Application and namespace names: a lowercase letter, then up to 31 lowercase letters or digits. */
export const NAME_PATTERN = /^[a-z][a-z0-9]{0,31}$/;
/** Profile names: like app names, but may contain '-' after the first character. */
export const PROFILE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const ENV_VALUE_MAX_BYTES = 512;
export const ENV_MAX_COUNT = 50;

function describe(value: unknown): string {
  const s = typeof value === "string" ? JSON.stringify(value) : String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function validateUuid(value: unknown, field = "uuid"): string {
  if (typeof value !== "string" || !UUID_PATTERN.test(value)) {
    throw new ValidationError(field, `must be exactly 32 lowercase hex characters (got ${describe(value)})`);
  }
  return value;
}

export function validateName(value: unknown, field: string): string {
  if (typeof value !== "string" || !NAME_PATTERN.test(value)) {
    throw new ValidationError(
      field,
      `must match ${NAME_PATTERN.source}: a lowercase letter then up to 31 lowercase letters or digits (got ${describe(value)})`,
    );
  }
  return value;
}

export function validateUid(value: unknown, config: NodeConfig, field = "uid"): number {
  const n = typeof value === "string" && /^[0-9]{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw new ValidationError(field, `must be an integer (got ${describe(value)})`);
  }
  const { firstUid, maxUid } = config.district;
  if (n < firstUid || n > maxUid) {
    throw new ValidationError(field, `${n} is outside this node's district range ${firstUid}-${maxUid}`);
  }
  return n;
}

export function validateProfile(value: unknown, config: NodeConfig, field = "profile"): string {
  if (typeof value !== "string" || !PROFILE_PATTERN.test(value)) {
    throw new ValidationError(field, `must match ${PROFILE_PATTERN.source} (got ${describe(value)})`);
  }
  if (!Object.prototype.hasOwnProperty.call(config.profiles, value)) {
    const known = Object.keys(config.profiles).sort().join(", ");
    throw new ValidationError(field, `unknown profile ${describe(value)} (this node has: ${known})`);
  }
  return value;
}

export function validateEnvName(name: string, config: NodeConfig, field = "env"): string {
  if (!ENV_NAME_PATTERN.test(name)) {
    throw new ValidationError(field, `variable name ${describe(name)} must match ${ENV_NAME_PATTERN.source}`);
  }
  if (RESERVED_ENV_NAMES.includes(name) || name.startsWith(config.envPrefix)) {
    throw new ValidationError(field, `variable name ${describe(name)} is reserved`);
  }
  return name;
}

export function validateEnv(value: unknown, config: NodeConfig, field = "env"): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError(field, "must be an object of NAME: value strings");
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > ENV_MAX_COUNT) {
    throw new ValidationError(field, `at most ${ENV_MAX_COUNT} variables (got ${entries.length})`);
  }
  const out: Record<string, string> = {};
  for (const [name, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    validateEnvName(name, config, field);
    if (typeof v !== "string") throw new ValidationError(`${field}.${name}`, "value must be a string");
    if (v.includes("\0")) throw new ValidationError(`${field}.${name}`, "value must not contain NUL");
    if (Buffer.byteLength(v) > ENV_VALUE_MAX_BYTES) {
      throw new ValidationError(`${field}.${name}`, `value longer than ${ENV_VALUE_MAX_BYTES} bytes`);
    }
    out[name] = v;
  }
  return out;
}

const SPEC_KEYS = ["uuid", "uid", "app", "namespace", "appUuid", "profile", "env"];

/** Validate a full create request. Unknown keys are refused (a typo must not silently become a default). */
export function validateGearSpec(input: unknown, config: NodeConfig): GearSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("request", "must be a JSON object");
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!SPEC_KEYS.includes(k))
      throw new ValidationError(k, `unknown field (allowed: ${SPEC_KEYS.join(", ")})`);
  }
  const uuid = validateUuid(o.uuid);
  const uid = validateUid(o.uid, config);
  const app = validateName(o.app, "app");
  const namespace = validateName(o.namespace, "namespace");
  const appUuid = o.appUuid === undefined ? undefined : validateUuid(o.appUuid, "appUuid");
  const profile = validateProfile(o.profile ?? config.defaultProfile, config);
  const env = validateEnv(o.env, config);
  return { uuid, uid, app, namespace, ...(appUuid ? { appUuid } : {}), profile, env };
}

/** An update may change only profile and env; anything else given must equal the stored spec. */
export function validateUpdate(input: unknown, current: GearSpec, config: NodeConfig): GearSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("request", "must be a JSON object");
  }
  const o = input as Record<string, unknown>;
  const merged = { ...current, ...o } as Record<string, unknown>;
  const spec = validateGearSpec(merged, config);
  for (const k of ["uuid", "uid", "app", "namespace", "appUuid"] as const) {
    if (spec[k] !== current[k]) {
      throw new ValidationError(
        k,
        `cannot change on update (is ${describe(current[k])}, asked ${describe(spec[k])})`,
      );
    }
  }
  return spec;
}
