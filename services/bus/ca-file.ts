// The CA file of a bus connection over TLS (config `bus.tls.caFile`), read and checked before anything
// connects: a missing, unreadable or non-certificate file fails with a ValidationError naming the config field
// and the path, not as a handshake that fails later. And the BusTlsOptions a service's `bus.tls` config gives.
// A CA certificate is public: unlike the password files, no mode is required of it.

import { X509Certificate } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";
import type { BusTlsConfig } from "../../common/config/bus-tls";
import { ValidationError } from "../../common/errors";
import type { BusTlsOptions } from "./socket";

const MAX_BYTES = 1024 * 1024;
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The PEM certificates of `file` (at least one, each parsed); errors name `field` and the path. */
export function readCaFile(file: string, field: string): string {
  const abs = path.resolve(file);
  let text: string;
  try {
    const buf = readFileSync(abs);
    if (buf.length > MAX_BYTES)
      throw new ValidationError(field, `${abs} is ${buf.length} bytes; a CA file is at most ${MAX_BYTES}`);
    text = buf.toString("utf8");
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT" ? "does not exist" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new ValidationError(field, `cannot read the CA file ${abs}: ${why}`);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
    throw new ValidationError(field, `${abs} holds a private key: give the CA's certificate only`);
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0)
    throw new ValidationError(field, `${abs} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new ValidationError(
        field,
        `${abs}: certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate (${(e as Error).message})`,
      );
    }
  });
  return `${blocks.join("\n")}\n`;
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
