// Validation shared by the platform components' pure resolve modules (Datastore, MessageBus, Dns, ...): every
// error is a ValidationError naming the field. No Pulumi, no I/O.
import { createHash } from "crypto";
import { ValidationError } from "../common/errors";
import { parseCertificateChain } from "../common/pem";

/** Longest component name: its children and services add their roles to it. */
export const COMPONENT_NAME_MAX = 30;
const COMPONENT_NAME = new RegExp(`^[a-z][a-z0-9-]{0,${COMPONENT_NAME_MAX - 1}}$`);
const PLAIN_PATH = /^\/[A-Za-z0-9._/-]+$/;
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * A CA file of PEM certificates (a TLS client's CA: the Broker's and the NodeHost's `bus.tls.ca`): each block
 * parsed, no private key; ends in a newline. Errors name `field` (common/pem.ts).
 */
export function renderCaFile(field: string, pem: unknown): string {
  return parseCertificateChain(field, pem).pem;
}

/** A component's name: its children are `${name}-<role>` and its service `${name}-<daemon>`. */
export function validateComponentName(name: unknown): string {
  if (typeof name !== "string" || !COMPONENT_NAME.test(name))
    throw new ValidationError("name", `${JSON.stringify(name)} must match ${COMPONENT_NAME}`);
  return name;
}

/** An absolute directory of at least two segments, plain characters, no `..` (it is removed on destroy). */
export function validateDirectory(field: string, value: unknown): string {
  if (
    typeof value !== "string" ||
    !PLAIN_PATH.test(value) ||
    value.split("/").includes("..") ||
    value.split("/").filter(Boolean).length < 2
  )
    throw new ValidationError(
      field,
      `${JSON.stringify(value)} must be an absolute path of [A-Za-z0-9._/-], at least two levels deep, no '..'`,
    );
  return value.replace(/\/+$/, "");
}

export function validatePort(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1024 || value > 65535)
    throw new ValidationError(field, `must be an integer in 1024..65535 (got ${JSON.stringify(value)})`);
  return value;
}

export function validateInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ValidationError(field, `must be an integer in ${min}..${max} (got ${JSON.stringify(value)})`);
  return value;
}

export function validateAccount(field: string, value: unknown): string {
  if (typeof value !== "string" || !ACCOUNT.test(value))
    throw new ValidationError(field, `${JSON.stringify(value)} must match ${ACCOUNT}`);
  return value;
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Creates a directory tree owned by a service's OS user; removes it on destroy. Values come as env. */
export const SERVICE_DIRECTORY_SCRIPT = [
  'id -u "$GT_USER" >/dev/null 2>&1 || { echo "no OS user $GT_USER: $GT_FIX" >&2; exit 1; }',
  'install -d -m 0755 -- "$GT_DIR"',
  'for sub in $GT_SUBDIRS; do install -d -m "$GT_SUBMODE" -o "$GT_USER" -g "$GT_USER" -- "$GT_DIR/$sub"; done',
].join("\n");

export const REMOVE_DIRECTORY_SCRIPT = 'rm -rf -- "$GT_DIR"';
