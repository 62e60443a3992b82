// DNS name and value rules shared by the broker's DNS updater (services/broker/dns) and the BIND config
// renderer (components/dns), which must agree on what a zone, a record name and a TSIG key name are. Pure.
//
// Host names follow RFC 1123 / RFC 952 (letters, digits, hyphen; a label is 1-63 characters and neither
// starts nor ends with a hyphen; the whole name at most 253 characters without the trailing dot). Names are
// compared and written in lower case. No underscores, no wildcards, no trailing dot, no IDN (A-labels
// `xn--...` are plain labels and pass).

import { ValidationError } from "./errors";

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_NAME = 253;

/** Why `name` is not a host name (lower-cased first), or null when it is one. */
export function dnsNameProblem(name: string, opts: { minLabels?: number } = {}): string | null {
  if (name.length === 0) return "is empty";
  if (name.length > MAX_NAME) return `is ${name.length} characters long (at most ${MAX_NAME})`;
  if (name.endsWith(".")) return "must not end with a dot (names are written without the root)";
  const labels = name.toLowerCase().split(".");
  for (const label of labels) {
    if (label.length === 0) return "has an empty label (two dots in a row, or a leading dot)";
    if (label.length > 63) return `has a label of ${label.length} characters (at most 63)`;
    if (!LABEL.test(label))
      return `has the label ${JSON.stringify(label)}: a label is letters, digits and inner hyphens`;
  }
  const min = opts.minLabels ?? 1;
  if (labels.length < min) return `needs at least ${min} labels`;
  return null;
}

/** `name` in lower case if it is a host name of at least `minLabels` labels; else a ValidationError naming `field`. */
export function validateDnsName(field: string, name: unknown, opts: { minLabels?: number } = {}): string {
  if (typeof name !== "string") throw new ValidationError(field, `expected a string, got ${typeof name}`);
  const problem = dnsNameProblem(name, opts);
  if (problem !== null) throw new ValidationError(field, `${JSON.stringify(name)} ${problem}`);
  return name.toLowerCase();
}

/** True when `name` is `zone` itself or a name below it (both lower case). */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

const OCTET = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** A dotted-quad IPv4 address (no leading zeros, no shorthand); else a ValidationError naming `field`. */
export function validateIpv4(field: string, value: unknown): string {
  if (typeof value !== "string") throw new ValidationError(field, `expected a string, got ${typeof value}`);
  const parts = value.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p)))
    throw new ValidationError(field, `${JSON.stringify(value)} is not a dotted-quad IPv4 address`);
  return value;
}

/** TSIG algorithms we sign with (BIND names, as tsig-keygen -a takes them). */
export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha384", "hmac-sha512"] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

/** A TSIG algorithm name we accept; else a ValidationError naming `field`. */
export function validateTsigAlgorithm(field: string, value: unknown): TsigAlgorithm {
  const v = typeof value === "string" ? value.toLowerCase() : value;
  if (!(TSIG_ALGORITHMS as readonly unknown[]).includes(v))
    throw new ValidationError(field, `expected one of ${TSIG_ALGORITHMS.join(", ")}`);
  return v as TsigAlgorithm;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A TSIG secret (base64, 16-256 bytes decoded); else a ValidationError naming `field` whose message never
 * contains the value.
 */
export function validateTsigSecret(field: string, value: unknown): string {
  if (typeof value !== "string" || !BASE64.test(value) || value.length % 4 !== 0)
    throw new ValidationError(field, "expected a base64 TSIG secret (the value is not shown)");
  const bytes = Buffer.from(value, "base64").length;
  if (bytes < 16 || bytes > 256)
    throw new ValidationError(
      field,
      `a TSIG secret of ${bytes} bytes is outside 16-256 (the value is not shown)`,
    );
  return value;
}
