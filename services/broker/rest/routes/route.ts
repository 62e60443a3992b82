// What every route module shares: the route definition, the handler's context and answer, and the helpers
// buildServer (server.ts) hands each module's registration function.

import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppRef, AppService, Message, Principal, Role } from "../../app/types";
import { message, type WireMessage } from "../envelope";
import type { PARAMS, SCHEMAS } from "../schemas";

export const PREFIX = "/broker/rest";

export type Auth = "none" | "optional" | Role;

export interface RouteDef {
  readonly auth: Auth;
  readonly body?: keyof typeof SCHEMAS;
  readonly params?: keyof typeof PARAMS;
  readonly query?: Record<string, unknown>;
  readonly summary: string;
  readonly tags: readonly string[];
}

export interface Ctx {
  readonly req: FastifyRequest;
  /** null only on routes with auth none/optional */
  readonly p: Principal;
  readonly base: string;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | undefined>;
  readonly body: Record<string, unknown>;
}

export interface Out {
  readonly status?: number;
  readonly type: string | null;
  readonly data: unknown;
  readonly messages?: readonly WireMessage[];
}

export type RouteFn = (
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  def: RouteDef,
  handler: (c: Ctx) => Promise<Out>,
) => void;

/** What buildServer hands each route module. */
export interface Routes {
  readonly app: FastifyInstance;
  readonly svc: AppService;
  readonly route: RouteFn;
  readonly deleted: (text: string) => Out;
  readonly stringQuery: (...names: string[]) => Record<string, unknown>;
}

export function wireMessages(messages: readonly Message[]): WireMessage[] {
  return messages.map((m) => message(m.severity, m.text, { field: m.field ?? null }));
}

export function appRef(params: Record<string, string>): AppRef {
  if (params.domain_name !== undefined) return { domain: params.domain_name, name: params.name };
  return { id: params.id };
}
