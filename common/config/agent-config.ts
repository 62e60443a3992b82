// The agent's config file (JSON): its types and JSON schema, here in common/ so that both the agent
// (services/agent/config.ts loads the file with it) and the NodeHost component (components/nodehost renders
// it) use the very same schema. Every error names its field (`config.<path>`). The bus password is a file
// of its own that others may not read, never a value of the config itself and never argv.
//
//   {"bus": {"host": "127.0.0.1", "port": 61613, "user": "agent-node1", "passwordFile": "/etc/geartrain/agent.password"},
//    "node": "node1", "nodeConfig": "/etc/geartrain/node.json",
//    "district": "default", "profile": "small", "maxActiveGears": 100, "publicHostname": "node1.example.com",
//    "factsIntervalMs": 30000, "concurrency": 1}

import { createAjv } from "../ajv-errors";
import { NODE_ID_PATTERN } from "../node-id";
import { BUS_TLS_SCHEMA, type BusTlsConfig } from "./bus-tls";
import { checkConfig } from "./check";

export type { BusTlsConfig } from "./bus-tls";

export interface AgentConfig {
  readonly bus: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly passwordFile: string;
    /** STOMP over TLS (bus-tls.ts); absent: plain STOMP */
    readonly tls?: BusTlsConfig;
  };
  readonly node: string;
  /** the node config file (default /etc/geartrain/node.json) */
  readonly nodeConfig?: string;
  readonly district: string;
  readonly profile: string;
  readonly maxActiveGears: number;
  readonly publicHostname: string;
  readonly prefix?: string;
  readonly factsIntervalMs?: number;
  readonly concurrency?: number;
  readonly heartbeatMs?: number;
  readonly maxReconnectDelayMs?: number;
  /** the request journal (default <node stateDir>/agent-requests) */
  readonly journalDir?: string;
}

const ABS = { type: "string", pattern: "^/", maxLength: 4096 } as const;

export const AGENT_CONFIG_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["bus", "node", "district", "profile", "maxActiveGears", "publicHostname"],
  properties: {
    bus: {
      type: "object",
      additionalProperties: false,
      required: ["host", "port", "user", "passwordFile"],
      properties: {
        host: { type: "string", minLength: 1, maxLength: 253 },
        port: { type: "integer", minimum: 1, maximum: 65535 },
        user: { type: "string", pattern: NODE_ID_PATTERN },
        passwordFile: ABS,
        tls: BUS_TLS_SCHEMA,
      },
    },
    node: { type: "string", pattern: NODE_ID_PATTERN },
    nodeConfig: ABS,
    district: { type: "string", minLength: 1, maxLength: 255 },
    profile: { type: "string", minLength: 1, maxLength: 255 },
    maxActiveGears: { type: "integer", minimum: 0, maximum: 1000000 },
    publicHostname: { type: "string", minLength: 1, maxLength: 253 },
    prefix: { type: "string", pattern: NODE_ID_PATTERN },
    factsIntervalMs: { type: "integer", minimum: 100, maximum: 3600000 },
    concurrency: { type: "integer", minimum: 1, maximum: 64 },
    heartbeatMs: { type: "integer", minimum: 0, maximum: 600000 },
    maxReconnectDelayMs: { type: "integer", minimum: 100, maximum: 600000 },
    journalDir: ABS,
  },
};

const validate = createAjv({ allErrors: false }).compile(AGENT_CONFIG_SCHEMA);

/** `doc` as an AgentConfig when the schema accepts it; else a ValidationError naming the first bad field. */
export function validateAgentConfig(doc: unknown): AgentConfig {
  return checkConfig<AgentConfig>(validate, doc);
}
