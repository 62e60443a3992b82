// The broker ↔ node agent wire contract (issue #10): request, reply and facts messages, the actions a node
// agent performs and the JSON schema of each action's arguments. Pure: no I/O. Arguments are the node
// operations' own input (node/index.ts); the schemas here check their shape (the node layer validates every
// value again and names the field), results are the operations' own output.
//
//   request  {id, action, args, replyTo, expiresAt, node}   id: correlation id = idempotency key
//   reply    {id, node, ok: true, result} | {id, node, ok: false, error: {kind, message, field?, exitCode, details?}}
//   facts    {node, district, profile, activeGears, maxActiveGears, publicHostname, cartridges, at}

import type { ErrorObject } from "ajv";
import { createAjv, fieldPath, pointerSegments } from "../../common/ajv-errors";
import { ValidationError, type ErrorKind } from "../../common/errors";
import { NODE_ID_PATTERN } from "../../common/node-id";

export const ACTIONS = [
  "gear.create",
  "gear.destroy",
  "gear.inspect",
  "gear.update",
  "gear.list",
  "cartridge.install",
  "cartridge.remove",
  "cartridge.control",
  "cartridge.status",
  "frontend.set",
  "frontend.remove",
  "frontend.read",
  "sshkey.add",
  "sshkey.remove",
  "sshkey.list",
  "node.check",
  "node.facts",
] as const;

export type Action = (typeof ACTIONS)[number];

/** A node identity (also in destination names: no '.', '>', '*', ',' or spaces). */
export { NODE_ID_PATTERN };
/** A correlation id: a UUID or another token of URL-safe characters. */
export const REQUEST_ID_PATTERN = "^[A-Za-z0-9_-]{8,64}$";
const UUID = { type: "string", pattern: "^[0-9a-f]{32}$" } as const;
const NAME = { type: "string", minLength: 1, maxLength: 255 } as const;
const ENV = { type: "object", additionalProperties: { type: "string" } } as const;

// ---- arguments of each action --------------------------------------------------------------------------

export interface GearCreateArgs {
  readonly uuid: string;
  readonly uid: number;
  readonly app: string;
  readonly namespace: string;
  readonly appUuid?: string;
  readonly profile?: string;
  readonly env?: Readonly<Record<string, string>>;
}
export interface UuidArgs {
  readonly uuid: string;
}
export interface GearUpdateArgs extends UuidArgs {
  readonly profile?: string;
  readonly env?: Readonly<Record<string, string>>;
}
export interface CartridgeInstallArgs extends UuidArgs {
  readonly name: string;
  readonly vendor?: string;
  readonly version?: string;
  readonly cartridgeVersion?: string;
}
export interface CartridgeNameArgs extends UuidArgs {
  readonly name: string;
}
export interface CartridgeControlArgs extends CartridgeNameArgs {
  readonly action: string;
  readonly args?: readonly string[];
}
export interface CartridgeStatusArgs extends UuidArgs {
  readonly name?: string;
}
export interface FrontendSetArgs {
  readonly gearUuid: string;
  readonly hostnames: readonly string[];
  readonly routes: readonly {
    readonly path: string;
    readonly backend: { readonly ip: string; readonly port: number; readonly path?: string };
    readonly websocket?: boolean;
  }[];
  readonly idle?: boolean;
}
export interface SshKeyAddArgs extends UuidArgs {
  readonly key: string;
  readonly name?: string;
}
export interface SshKeyRemoveArgs extends UuidArgs {
  readonly name?: string;
  readonly fingerprint?: string;
}
export type NoArgs = Record<string, never>;

/** The arguments of each action. */
export interface ActionArgs {
  "gear.create": GearCreateArgs;
  "gear.destroy": UuidArgs;
  "gear.inspect": UuidArgs;
  "gear.update": GearUpdateArgs;
  "gear.list": NoArgs;
  "cartridge.install": CartridgeInstallArgs;
  "cartridge.remove": CartridgeNameArgs;
  "cartridge.control": CartridgeControlArgs;
  "cartridge.status": CartridgeStatusArgs;
  "frontend.set": FrontendSetArgs;
  "frontend.remove": UuidArgs;
  "frontend.read": UuidArgs;
  "sshkey.add": SshKeyAddArgs;
  "sshkey.remove": SshKeyRemoveArgs;
  "sshkey.list": UuidArgs;
  "node.check": NoArgs;
  "node.facts": NoArgs;
}

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});

export const ARGS_SCHEMAS: Readonly<Record<Action, object>> = {
  "gear.create": obj(
    {
      uuid: UUID,
      uid: { type: "integer", minimum: 1, maximum: 4294967294 },
      app: NAME,
      namespace: NAME,
      appUuid: UUID,
      profile: NAME,
      env: ENV,
    },
    ["uuid", "uid", "app", "namespace"],
  ),
  "gear.destroy": obj({ uuid: UUID }, ["uuid"]),
  "gear.inspect": obj({ uuid: UUID }, ["uuid"]),
  "gear.update": obj({ uuid: UUID, profile: NAME, env: ENV }, ["uuid"]),
  "gear.list": obj({}),
  "cartridge.install": obj({ uuid: UUID, name: NAME, vendor: NAME, version: NAME, cartridgeVersion: NAME }, [
    "uuid",
    "name",
  ]),
  "cartridge.remove": obj({ uuid: UUID, name: NAME }, ["uuid", "name"]),
  "cartridge.control": obj(
    {
      uuid: UUID,
      name: NAME,
      action: NAME,
      args: { type: "array", items: { type: "string" }, maxItems: 64 },
    },
    ["uuid", "name", "action"],
  ),
  "cartridge.status": obj({ uuid: UUID, name: NAME }, ["uuid"]),
  // the frontend spec is validated field by field by the node layer (node/frontend/validate.ts)
  "frontend.set": {
    type: "object",
    properties: {
      gearUuid: UUID,
      hostnames: { type: "array", items: { type: "string" } },
      routes: { type: "array", items: { type: "object" } },
      idle: { type: "boolean" },
    },
    required: ["gearUuid", "hostnames", "routes"],
    additionalProperties: false,
  },
  "frontend.remove": obj({ uuid: UUID }, ["uuid"]),
  "frontend.read": obj({ uuid: UUID }, ["uuid"]),
  "sshkey.add": obj({ uuid: UUID, key: { type: "string", minLength: 1, maxLength: 16384 }, name: NAME }, [
    "uuid",
    "key",
  ]),
  "sshkey.remove": obj({ uuid: UUID, name: NAME, fingerprint: NAME }, ["uuid"]),
  "sshkey.list": obj({ uuid: UUID }, ["uuid"]),
  "node.check": obj({}),
  "node.facts": obj({}),
};

// ---- messages ------------------------------------------------------------------------------------------

export interface BusRequest<A extends Action = Action> {
  /** correlation id, and the idempotency key: a request with an id already seen is not run again */
  readonly id: string;
  readonly action: A;
  readonly args: ActionArgs[A];
  /** the STOMP destination of the requesting broker process's reply queue */
  readonly replyTo: string;
  /** absolute deadline, epoch ms: after it the agent does not run the request */
  readonly expiresAt: number;
  /** the node identity it is addressed to */
  readonly node: string;
}

/** The error of a failed request: common/errors.ts errorJson's shape, with the exit code. */
export interface BusError {
  readonly kind: ErrorKind;
  readonly message: string;
  readonly field?: string;
  readonly exitCode: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type BusReply =
  | { readonly id: string; readonly node: string; readonly ok: true; readonly result: unknown }
  | { readonly id: string; readonly node: string; readonly ok: false; readonly error: BusError };

export interface NodeFacts {
  readonly node: string;
  readonly district: string;
  readonly profile: string;
  readonly activeGears: number;
  readonly maxActiveGears: number;
  readonly publicHostname: string;
  readonly cartridges: readonly { readonly name: string; readonly version: string; readonly type: string }[];
  /** when the agent took them, epoch ms */
  readonly at: number;
}

const ERROR_KINDS: ErrorKind[] = [
  "error",
  "usage",
  "invalid",
  "invalid_cartridge",
  "invalid_config",
  "not_found",
  "conflict",
  "failed",
  "command_failed",
  "hook_failed",
  "deploy_failed",
  "frontend_failed",
  "unavailable",
  "refused",
];

const ID = { type: "string", pattern: REQUEST_ID_PATTERN } as const;
const NODE = { type: "string", pattern: NODE_ID_PATTERN } as const;

export const REQUEST_SCHEMA = obj(
  {
    id: ID,
    action: { enum: [...ACTIONS] },
    args: { type: "object" },
    replyTo: { type: "string", pattern: "^/queue/[A-Za-z0-9_.-]{1,200}$" },
    expiresAt: { type: "integer", minimum: 0 },
    node: NODE,
  },
  ["id", "action", "args", "replyTo", "expiresAt", "node"],
);

export const REPLY_SCHEMA = {
  oneOf: [
    obj({ id: ID, node: NODE, ok: { const: true }, result: {} }, ["id", "node", "ok"]),
    obj(
      {
        id: ID,
        node: NODE,
        ok: { const: false },
        error: obj(
          {
            kind: { enum: ERROR_KINDS },
            message: { type: "string" },
            field: { type: "string" },
            exitCode: { type: "integer" },
            details: { type: "object" },
          },
          ["kind", "message", "exitCode"],
        ),
      },
      ["id", "node", "ok", "error"],
    ),
  ],
};

export const FACTS_SCHEMA = obj(
  {
    node: NODE,
    district: { type: "string", maxLength: 255 },
    profile: { type: "string", maxLength: 255 },
    activeGears: { type: "integer", minimum: 0 },
    maxActiveGears: { type: "integer", minimum: 0 },
    publicHostname: { type: "string", maxLength: 253 },
    cartridges: {
      type: "array",
      maxItems: 1000,
      items: obj({ name: { type: "string" }, version: { type: "string" }, type: { type: "string" } }, [
        "name",
        "version",
        "type",
      ]),
    },
    at: { type: "integer", minimum: 0 },
  },
  ["node", "district", "profile", "activeGears", "maxActiveGears", "publicHostname", "cartridges", "at"],
);

const ajv = createAjv({ allErrors: false });
const validators = {
  request: ajv.compile(REQUEST_SCHEMA),
  reply: ajv.compile(REPLY_SCHEMA),
  facts: ajv.compile(FACTS_SCHEMA),
  args: Object.fromEntries(ACTIONS.map((a) => [a, ajv.compile(ARGS_SCHEMAS[a])])) as Record<
    Action,
    ReturnType<typeof ajv.compile>
  >,
};

function fail(root: string, data: unknown, errors: ErrorObject[] | null | undefined): never {
  const e = errors?.[0];
  if (!e) throw new ValidationError(root, "is invalid");
  const segments = pointerSegments(e.instancePath, data);
  if (e.keyword === "required") segments.push((e.params as { missingProperty: string }).missingProperty);
  if (e.keyword === "additionalProperties")
    segments.push((e.params as { additionalProperty: string }).additionalProperty);
  const what =
    e.keyword === "required"
      ? "is missing"
      : e.keyword === "additionalProperties"
        ? "is not allowed"
        : e.message;
  throw new ValidationError(fieldPath(segments, root), what ?? "is invalid");
}

/** Check an action's arguments; the error names the field (`args.uuid`). */
export function validateArgs<A extends Action>(action: A, args: unknown): ActionArgs[A] {
  const v = validators.args[action];
  if (!v) throw new ValidationError("action", `unknown action ${JSON.stringify(action)}`);
  if (!v(args)) fail("args", args, v.errors);
  return args as ActionArgs[A];
}

/** Check a request message (and its arguments). */
export function validateRequest(data: unknown): BusRequest {
  if (!validators.request(data)) fail("request", data, validators.request.errors);
  const req = data as unknown as BusRequest;
  validateArgs(req.action, req.args);
  return req;
}

export function validateReply(data: unknown): BusReply {
  if (!validators.reply(data)) fail("reply", data, validators.reply.errors);
  return data as unknown as BusReply;
}

export function validateFacts(data: unknown): NodeFacts {
  if (!validators.facts(data)) fail("facts", data, validators.facts.errors);
  return data as unknown as NodeFacts;
}

export function isAction(value: unknown): value is Action {
  return typeof value === "string" && (ACTIONS as readonly string[]).includes(value);
}

// ---- destinations --------------------------------------------------------------------------------------

export const DEFAULT_PREFIX = "geartrain";

/** The queue a node's agent consumes (only that agent may read it). */
export function nodeQueue(node: string, prefix = DEFAULT_PREFIX): string {
  return `/queue/${prefix}.node.${node}`;
}

/** A broker process's own reply queue. */
export function replyQueue(brokerId: string, prefix = DEFAULT_PREFIX): string {
  return `/queue/${prefix}.reply.${brokerId}`;
}

/** The topic a node publishes its facts to; the broker reads them all with factsWildcard(). */
export function factsTopic(node: string, prefix = DEFAULT_PREFIX): string {
  return `/topic/${prefix}.facts.${node}`;
}

export function factsWildcard(prefix = DEFAULT_PREFIX): string {
  return `/topic/${prefix}.facts.>`;
}
