// `bus.tls` of the broker's and the agent's config files (broker-config.ts, agent-config.ts): STOMP over TLS
// to ActiveMQ's stomp+ssl connector, the server's certificate verified against the CA in `caFile` and the
// name `serverName` (default: `bus.host`). Absent: plain STOMP, as on a loopback bus.
//
//   "bus": {..., "tls": {"caFile": "/etc/geartrain/bus-ca.crt", "serverName": "bus.apps.example.com"}}

export interface BusTlsConfig {
  /** the CA certificate(s) the bus's certificate must chain to, PEM (absolute path; not secret) */
  readonly caFile: string;
  /** the DNS name the bus's certificate must carry (default: `bus.host`; also sent as SNI) */
  readonly serverName?: string;
}

/** A DNS name of letters, digits and inner hyphens per label, no trailing dot (what a certificate names). */
export const SERVER_NAME_PATTERN =
  "^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";

export const BUS_TLS_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["caFile"],
  properties: {
    caFile: {
      type: "string",
      pattern: "^/",
      maxLength: 4096,
      "x-expected": "an absolute path to a PEM CA certificate file",
    },
    serverName: {
      type: "string",
      pattern: SERVER_NAME_PATTERN,
      "x-expected": "a DNS name the bus's certificate carries (letters, digits and inner hyphens per label)",
    },
  },
} as const;
