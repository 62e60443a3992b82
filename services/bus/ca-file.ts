// The CA file of a bus connection over TLS (config `bus.tls.caFile`), read and checked (common/pem.ts) before
// anything connects: a missing, unreadable or non-certificate file fails with a ValidationError naming the config field
// and the path, not as a handshake that fails later. And the BusTlsOptions a service's `bus.tls` config gives.
// A CA certificate is public: unlike the password files, no mode is required of it.

import { readFileSync } from "fs";
import * as path from "path";
import type { BusTlsConfig } from "../../common/config/bus-tls";
import { ValidationError } from "../../common/errors";
import { parseCertificateChain } from "../../common/pem";
import type { BusTlsOptions } from "./socket";

const MAX_BYTES = 1024 * 1024;

/**
 * The PEM certificates of `file` (at least one, each parsed, no private key: common/pem.ts), errors naming
 * `field` and the path; `what` names the file in a read error ("the CA file").
 */
export function readCertificatesFile(file: string, field: string, what: string): string {
  const abs = path.resolve(file);
  let text: string;
  try {
    const buf = readFileSync(abs);
    if (buf.length > MAX_BYTES)
      throw new ValidationError(field, `${abs} is ${buf.length} bytes; ${what} is at most ${MAX_BYTES}`);
    text = buf.toString("utf8");
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT" ? "does not exist" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new ValidationError(field, `cannot read ${what} ${abs}: ${why}`);
  }
  return parseCertificateChain(field, text, { source: abs }).pem;
}

/** The PEM certificates of a CA file; errors name `field` and the path. */
export function readCaFile(file: string, field: string): string {
  return readCertificatesFile(file, field, "the CA file");
}

/**
 * The bus client's TLS options for a service config's `bus.tls` (common/config/bus-tls.ts; undefined: plain
 * STOMP); the CA file is read now,
 * errors naming `<prefix>.caFile`.
 */
export function busTlsOptions(
  config: BusTlsConfig | undefined,
  prefix = "bus.tls",
): BusTlsOptions | undefined {
  if (config === undefined) return undefined;
  const ca = readCaFile(config.caFile, `${prefix}.caFile`);
  return config.serverName === undefined ? { ca } : { ca, servername: config.serverName };
}
