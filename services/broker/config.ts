// The broker's config file (JSON), validated before anything connects; every error names its field. Secrets
// (database and bus passwords, the TSIG key, the bootstrap admin's password) are files of their own that
// others may not read, never values of the config itself and never argv.
//
//   {"listen": {"host": "127.0.0.1", "port": 8080}, "cloudDomain": "apps.example.com",
//    "database": {"host": "127.0.0.1", "port": 5432, "database": "geartrain", "user": "broker",
//                 "passwordFile": "/etc/geartrain/db.password"},
//    "bus": {"host": "127.0.0.1", "port": 61613, "user": "broker", "passwordFile": "/etc/geartrain/bus.password"},
//    "dns": {"server": "127.0.0.1", "port": 53, "zone": "apps.example.com", "keyFile": "/etc/geartrain/tsig.key"},
//    "admin": {"login": "admin", "passwordFile": "/etc/geartrain/admin.password"}}

// The types, schema and validateBrokerConfig live in common/config/broker-config.ts (the Broker component
// renders the file with them); this module loads the file and reads the secret files.

import { readFileSync, statSync } from "fs";
import * as path from "path";
import { validateBrokerConfig, type BrokerConfig } from "../../common/config/broker-config";
import { UnavailableError, ValidationError } from "../../common/errors";
import { parsePrivateKey } from "../../common/pem";
import { readCertificatesFile } from "../bus/ca-file";
import { loadConfigFile } from "../config-file";

export {
  BROKER_CONFIG_SCHEMA,
  validateBrokerConfig,
  type BrokerConfig,
} from "../../common/config/broker-config";

export function loadBrokerConfig(file: string): BrokerConfig {
  return loadConfigFile(file, "the broker config", validateBrokerConfig);
}

/** A secret file's content (first line, or all of it for key files); refused when others may read it. */
export function readSecretFile(file: string, field: string, whole = false): string {
  const abs = path.resolve(file);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    throw new UnavailableError(`cannot read ${field} ${abs}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new ValidationError(field, `${abs} is not a regular file`);
  if (st.mode & 0o007) throw new ValidationError(field, `${abs} is readable by others (chmod 0600 it)`);
  const text = readFileSync(abs, "utf8");
  const value = whole ? text : text.split("\n")[0];
  if (!value.trim()) throw new ValidationError(field, `${abs} is empty`);
  return value;
}

/**
 * A PEM certificate file (not secret: listen.tls.certificateFile): the server's certificate, then any
 * intermediates, each parsed, no private key (common/pem.ts); errors name `field` and the path.
 */
export function readCertificateFile(file: string, field: string): string {
  return readCertificatesFile(file, field, "the certificate file");
}

/** A PEM private key in a secret file (listen.tls.keyFile): refused when others may read it or unreadable. */
export function readPrivateKeyFile(file: string, field: string): string {
  const abs = path.resolve(file);
  return parsePrivateKey(field, readSecretFile(abs, field, true), { source: abs }).pem;
}
