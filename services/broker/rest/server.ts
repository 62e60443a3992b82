// The broker's fastify app: OpenShift v2 REST API v1.7 routes over the AppService interface. Auth and version
// checks run on every request before its body is read; bodies are validated by their JSON schema
// (schemas.ts) before the handler; every reply is an envelope (envelope.ts) and every error goes through
// errors.ts. The OpenAPI document is generated from the same schemas (@fastify/swagger).

import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { AdminOnlyError } from "../app/errors";
import type { AppService, Principal } from "../app/types";
import { challenge, parseAuthorization, scopeAllows } from "./auth";
import {
  API_VERSION,
  envelope,
  message,
  requestedVersion,
  SUPPORTED_API_VERSIONS,
  versionSupported,
} from "./envelope";
import { errorReply } from "./errors";
import { adminRoutes } from "./routes/admin";
import { apiRoutes } from "./routes/api";
import { applicationsRoutes } from "./routes/applications";
import { cartridgesRoutes } from "./routes/cartridges";
import { domainsRoutes } from "./routes/domains";
import { envRoutes } from "./routes/env";
import { PREFIX, type Auth, type Ctx, type Out, type RouteDef, type Routes } from "./routes/route";
import { userRoutes } from "./routes/user";
import { ORIGIN_CODES, PARAMS, SCHEMAS } from "./schemas";

export { PREFIX } from "./routes/route";
export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface ServerOptions {
  readonly service: AppService;
  /** realm of the Basic challenge */
  readonly realm?: string;
  /** base of link hrefs, e.g. https://broker.example (default: from the request's Host) */
  readonly publicUrl?: string;
  readonly bodyLimit?: number;
  /** fastify logger options; false for none. Credentials are always redacted. */
  readonly logger?: boolean | Record<string, unknown>;
  /** Serve HTTPS (only) with this certificate chain and private key, both PEM. */
  readonly https?: { readonly cert: string; readonly key: string };
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    auth?: Auth;
    codes?: Record<string, number>;
  }
}

/** Paths of log records that may hold credentials: redacted by pino in every log line. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "password",
  "token",
  "*.password",
  "*.token",
  "body.password",
];

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const svc = opts.service;
  const realm = opts.realm ?? "geartrain";
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const logger =
    opts.logger === false || opts.logger === undefined
      ? false
      : {
          ...(opts.logger === true ? {} : opts.logger),
          redact: { paths: REDACT_PATHS, censor: "[redacted]" },
        };
  const app = Fastify({
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    logger,
    bodyLimit,
    ajv: {
      customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false, useDefaults: false },
    },
    // rhc sends `Content-Type: application/json;version=1.7` on bodiless DELETEs too
    return503OnClosing: true,
  });
  app.decorateRequest("principal", null);

  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit }, (_req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      const err = new Error((e as Error).message) as Error & { statusCode: number; code: string };
      err.statusCode = 400;
      err.code = "FST_ERR_CTP_INVALID_JSON_BODY";
      done(err, undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Geartrain broker (OpenShift v2 REST API 1.7)",
        version: API_VERSION.toFixed(1),
        description:
          "The OpenShift v2 broker REST API at version 1.7, plus the admin API under /broker/rest/admin. " +
          "Clients follow link names from GET /broker/rest/api (see docs/control-plane.md).",
      },
      components: {
        securitySchemes: {
          basic: { type: "http", scheme: "basic" },
          bearer: { type: "http", scheme: "bearer" },
        },
      },
    },
  });

  const baseOf = (req: FastifyRequest) =>
    `${opts.publicUrl ? opts.publicUrl.replace(/\/+$/, "") : `${req.protocol}://${req.host}`}${PREFIX}`;

  const send = (reply: FastifyReply, out: Out) =>
    reply
      .code(out.status ?? 200)
      .type("application/json; charset=utf-8")
      .send(envelope(out.status ?? 200, out.type, out.data, out.messages ?? []));

  // version negotiation and authentication, before any body is read
  app.addHook("onRequest", async (req, reply) => {
    const v = requestedVersion(req.headers.accept);
    if (!versionSupported(v)) {
      return send(reply, {
        status: 406,
        type: null,
        data: null,
        messages: [
          message(
            "error",
            `API version ${v} is not supported; supported: ${SUPPORTED_API_VERSIONS.join(", ")}`,
            {
              exitCode: 1,
            },
          ),
        ],
      });
    }
    const auth = req.routeOptions.config?.auth ?? "none";
    if (auth === "none") return;
    const creds = parseAuthorization(req.headers.authorization);
    let principal: Principal | null = null;
    if (creds.kind === "basic") principal = await svc.authenticateBasic(creds.login, creds.password);
    else if (creds.kind === "bearer") principal = await svc.authenticateToken(creds.token);
    if (principal && principal.scopes && !scopeAllows(principal.scopes, req.method, req.url.split("?")[0])) {
      return send(reply, {
        status: 403,
        type: null,
        data: null,
        messages: [message("error", "this token's scope does not allow this request", { exitCode: 1 })],
      });
    }
    if (!principal) {
      if (auth === "optional" && creds.kind === "none") return;
      reply.header("WWW-Authenticate", challenge(realm));
      return send(reply, {
        status: 401,
        type: null,
        data: null,
        messages: [
          message(
            "error",
            creds.kind === "none" ? "Not authenticated" : "Username or password is not correct",
            {
              exitCode: 1,
            },
          ),
        ],
      });
    }
    if (auth === "admin" && principal.role !== "admin") throw new AdminOnlyError();
    req.principal = principal;
  });

  app.setErrorHandler((err, req, reply) => {
    const r = errorReply(err, req.routeOptions.config?.codes);
    if (r.internal) req.log.error({ err }, "request failed");
    else req.log.info({ status: r.status, messages: r.messages.map((m) => m.text) }, "request refused");
    if (r.status === 401) reply.header("WWW-Authenticate", challenge(realm));
    return send(reply, { status: r.status, type: null, data: null, messages: r.messages });
  });

  app.setNotFoundHandler((req, reply) =>
    send(reply, {
      status: 404,
      type: null,
      data: null,
      messages: [
        message("error", `no such resource: ${req.method} ${req.url.split("?")[0]}`, { exitCode: 1 }),
      ],
    }),
  );

  const route = (
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    def: RouteDef,
    handler: (c: Ctx) => Promise<Out>,
  ) => {
    const security: Record<string, string[]>[] =
      def.auth === "none"
        ? []
        : def.auth === "optional"
          ? [{}, { basic: [] }, { bearer: [] }]
          : [{ basic: [] }, { bearer: [] }];
    app.route({
      method,
      url: `${PREFIX}${path}`,
      config: { auth: def.auth, ...(def.body ? { codes: ORIGIN_CODES[def.body] ?? {} } : {}) },
      schema: {
        summary: def.summary,
        tags: [...def.tags],
        security,
        ...(def.body ? { body: SCHEMAS[def.body] } : {}),
        ...(def.params ? { params: PARAMS[def.params] } : {}),
        ...(def.query ? { querystring: def.query } : {}),
      },
      handler: async (req, reply) => {
        const out = await handler({
          req,
          p: req.principal as Principal,
          base: baseOf(req),
          params: (req.params ?? {}) as Record<string, string>,
          query: (req.query ?? {}) as Record<string, string | undefined>,
          body: (req.body ?? {}) as Record<string, unknown>,
        });
        return send(reply, out);
      },
    });
  };

  const deleted = (text: string): Out => ({
    status: 200,
    type: null,
    data: null,
    messages: [message("info", text)],
  });
  const stringQuery = (...names: string[]) => ({
    type: "object",
    properties: Object.fromEntries(names.map((n) => [n, { type: "string", maxLength: 64 }])),
  });

  // the routes, one module per resource (routes/), registered in the order the OpenAPI document lists them
  const routes: Routes = { app, svc, route, deleted, stringQuery };
  apiRoutes(routes);
  userRoutes(routes);
  domainsRoutes(routes);
  applicationsRoutes(routes);
  cartridgesRoutes(routes);
  envRoutes(routes);
  adminRoutes(routes);

  return app;
}
