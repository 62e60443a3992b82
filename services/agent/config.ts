// The agent's config file (JSON), validated before anything connects; every error names its field. The bus
// password is read from a file (never the config itself, never argv), which must not be readable by others.
//
//   {"bus": {"host": "127.0.0.1", "port": 61613, "user": "agent-node1", "passwordFile": "/etc/geartrain/agent.password"},
//    "node": "node1", "nodeConfig": "/etc/geartrain/node.json",
//    "district": "default", "profile": "small", "maxActiveGears": 100, "publicHostname": "node1.example.com",
//    "factsIntervalMs": 30000, "concurrency": 1}

import { readFileSync, statSync } from "fs";
import * as path from "path";
import { createAjv } from "../../common/ajv-errors";
import { UnavailableError, ValidationError } from "../../common/errors";
import { checkConfig, loadConfigFile } from "../config-file";
import { NODE_ID_PATTERN } from "../bus/actions";

export interface AgentConfig {
  readonly bus: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly passwordFile: string;
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

export function validateAgentConfig(doc: unknown): AgentConfig {
  return checkConfig<AgentConfig>(validate, doc);
}

export function loadAgentConfig(file: string): AgentConfig {
  return loadConfigFile(file, "the agent config", validateAgentConfig);
}

/** The bus password: the file's first line. Refused when others may read it. */
export function readPasswordFile(file: string): string {
  const abs = path.resolve(file);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    throw new UnavailableError(`cannot read the bus password file ${abs}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new ValidationError("bus.passwordFile", `${abs} is not a regular file`);
  if (st.mode & 0o007)
    throw new ValidationError("bus.passwordFile", `${abs} is readable by others (chmod 0600 it)`);
  const pw = readFileSync(abs, "utf8").split("\n")[0];
  if (!pw) throw new ValidationError("bus.passwordFile", `${abs} is empty`);
  return pw;
}
