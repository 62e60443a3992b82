// The broker's config file (JSON): its types and JSON schema, here in common/ so that both the broker
// (services/broker/config.ts loads the file with it) and the Broker component (components/broker renders
// it) use the very same schema. Every error names its field. Secrets (database and bus passwords, the TSIG
// key, the bootstrap admin's password) are files of their own that others may not read, never values of the
// config itself and never argv.
//
//   {"listen": {"host": "127.0.0.1", "port": 8080}, "cloudDomain": "apps.example.com",
//    "database": {"host": "127.0.0.1", "port": 5432, "database": "geartrain", "user": "broker",
//                 "passwordFile": "/etc/geartrain/db.password"},
//    "bus": {"host": "127.0.0.1", "port": 61613, "user": "broker", "passwordFile": "/etc/geartrain/bus.password"},
//    "dns": {"server": "127.0.0.1", "port": 53, "zone": "apps.example.com", "keyFile": "/etc/geartrain/tsig.key"},
//    "admin": {"login": "admin", "passwordFile": "/etc/geartrain/admin.password"}}

import { createAjv } from "../ajv-errors";
import { BUS_TLS_SCHEMA, type BusTlsConfig } from "./bus-tls";
import { checkConfig } from "./check";

export type { BusTlsConfig } from "./bus-tls";

export interface BrokerConfig {
  /** With `tls`, the REST API is served over HTTPS only (a platform whose clients reach it across hosts). */
  readonly listen: {
    readonly host: string;
    readonly port: number;
    readonly tls?: {
      /** PEM: the server certificate, then any intermediates */
      readonly certificateFile: string;
      /** PEM private key: a secret file (others may not read it) */
      readonly keyFile: string;
    };
    /**
     * A second listener, plain HTTP on a loopback address, for tools on the broker's own host (the Broker
     * component's readiness check, the District's CLI) while the public one is HTTPS.
     */
    readonly local?: { readonly host: string; readonly port: number };
  };
  /** base of link hrefs (https://broker.example.com); default: the request's Host */
  readonly publicUrl?: string;
  readonly cloudDomain: string;
  /** this process's id on the bus and in pending ops (default: b-<random>) */
  readonly brokerId?: string;
  readonly database: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
    readonly passwordFile: string;
    readonly poolSize?: number;
  };
  readonly bus: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly passwordFile: string;
    readonly prefix?: string;
    /** STOMP over TLS (bus-tls.ts); absent: plain STOMP */
    readonly tls?: BusTlsConfig;
  };
  readonly dns: {
    readonly server: string;
    readonly port: number;
    readonly zone: string;
    readonly keyFile: string;
  };
  /** created at start-up if no user of that login exists */
  readonly admin?: { readonly login: string; readonly passwordFile: string };
  readonly defaultProfile?: string;
  readonly sshPort?: number;
  readonly nodeTimeoutMs?: number;
  readonly cartridgeTimeoutMs?: number;
  readonly silenceMs?: number;
  readonly leaseMs?: number;
  readonly bodyLimit?: number;
  readonly realm?: string;
  readonly logLevel?: "fatal" | "error" | "warn" | "info" | "debug";
}

const ABS = { type: "string", pattern: "^/", maxLength: 4096 } as const;
const HOST = { type: "string", minLength: 1, maxLength: 253 } as const;
const PORT = { type: "integer", minimum: 1, maximum: 65535 } as const;
const MS = { type: "integer", minimum: 100, maximum: 3600000 } as const;
const ID = { type: "string", pattern: "^[a-z0-9][a-z0-9_-]{0,62}$" } as const;

export const BROKER_CONFIG_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["listen", "cloudDomain", "database", "bus", "dns"],
  properties: {
    listen: {
      type: "object",
      additionalProperties: false,
      required: ["host", "port"],
      properties: {
        host: HOST,
        port: { type: "integer", minimum: 0, maximum: 65535 },
        tls: {
          type: "object",
          additionalProperties: false,
          required: ["certificateFile", "keyFile"],
          properties: { certificateFile: ABS, keyFile: ABS },
        },
        local: {
          type: "object",
          additionalProperties: false,
          required: ["host", "port"],
          properties: {
            host: { type: "string", pattern: "^127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$" },
            port: { type: "integer", minimum: 0, maximum: 65535 },
          },
        },
      },
    },
    publicUrl: { type: "string", pattern: "^https?://[^/]+$", maxLength: 300 },
    cloudDomain: HOST,
    brokerId: ID,
    database: {
      type: "object",
      additionalProperties: false,
      required: ["host", "port", "database", "user", "passwordFile"],
      properties: {
        host: HOST,
        port: PORT,
        database: { type: "string", minLength: 1, maxLength: 63 },
        user: { type: "string", minLength: 1, maxLength: 63 },
        passwordFile: ABS,
        poolSize: { type: "integer", minimum: 1, maximum: 200 },
      },
    },
    bus: {
      type: "object",
      additionalProperties: false,
      required: ["host", "port", "user", "passwordFile"],
      properties: { host: HOST, port: PORT, user: ID, passwordFile: ABS, prefix: ID, tls: BUS_TLS_SCHEMA },
    },
    dns: {
      type: "object",
      additionalProperties: false,
      required: ["server", "port", "zone", "keyFile"],
      properties: { server: HOST, port: PORT, zone: HOST, keyFile: ABS },
    },
    admin: {
      type: "object",
      additionalProperties: false,
      required: ["login", "passwordFile"],
      properties: {
        login: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$" },
        passwordFile: ABS,
      },
    },
    defaultProfile: { type: "string", pattern: "^[a-z][a-z0-9-]{0,31}$" },
    sshPort: PORT,
    nodeTimeoutMs: MS,
    cartridgeTimeoutMs: MS,
    silenceMs: MS,
    leaseMs: MS,
    bodyLimit: { type: "integer", minimum: 1024, maximum: 16777216 },
    realm: { type: "string", pattern: '^[^"\\\\]{1,64}$' },
    logLevel: { enum: ["fatal", "error", "warn", "info", "debug"] },
  },
};

const validate = createAjv({ allErrors: false }).compile(BROKER_CONFIG_SCHEMA);

/** `doc` as a BrokerConfig, or a ValidationError naming the first bad field (`config.<path>`). */
export function validateBrokerConfig(doc: unknown): BrokerConfig {
  return checkConfig<BrokerConfig>(validate, doc);
}
