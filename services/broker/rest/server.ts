// The broker's fastify app: OpenShift v2 REST API v1.7 routes over the AppService interface. Auth and version
// checks run on every request before its body is read; bodies are validated by their JSON schema
// (schemas.ts) before the handler; every reply is an envelope (envelope.ts) and every error goes through
// errors.ts. The OpenAPI document is generated from the same schemas (@fastify/swagger).

import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type {
  AppEvent,
  AppRef,
  AppService,
  CartridgeEvent,
  EnvChange,
  Message,
  Principal,
  Role,
} from "../app/types";
import { AdminOnlyError, BrokerNotFoundError } from "../app/errors";
import { challenge, parseAuthorization, scopeAllows } from "./auth";
import {
  API_VERSION,
  envelope,
  message,
  requestedVersion,
  SUPPORTED_API_VERSIONS,
  versionSupported,
  type WireMessage,
} from "./envelope";
import { errorReply } from "./errors";
import { apiLinks } from "./links";
import {
  applicationRep,
  appCartridgeRep,
  authorizationRep,
  catalogueRep,
  districtRep,
  domainRep,
  envRep,
  gearGroupsRep,
  gearRecordRep,
  keyRep,
  nodeRep,
  userRep,
} from "./represent";
import { ORIGIN_CODES, PARAMS, SCHEMAS } from "./schemas";

export const PREFIX = "/broker/rest";
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
}

type Auth = "none" | "optional" | Role;

interface RouteDef {
  readonly auth: Auth;
  readonly body?: keyof typeof SCHEMAS;
  readonly params?: keyof typeof PARAMS;
  readonly query?: Record<string, unknown>;
  readonly summary: string;
  readonly tags: readonly string[];
}

interface Ctx {
  readonly req: FastifyRequest;
  /** null only on routes with auth none/optional */
  readonly p: Principal;
  readonly base: string;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | undefined>;
  readonly body: Record<string, unknown>;
}

interface Out {
  readonly status?: number;
  readonly type: string | null;
  readonly data: unknown;
  readonly messages?: readonly WireMessage[];
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

function wireMessages(messages: readonly Message[]): WireMessage[] {
  return messages.map((m) => message(m.severity, m.text, { field: m.field ?? null }));
}

function appRef(params: Record<string, string>): AppRef {
  if (params.domain_name !== undefined) return { domain: params.domain_name, name: params.name };
  return { id: params.id };
}

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

  // --- discovery, health, OpenAPI, catalogue (no login)
  route("GET", "/api", { auth: "none", summary: "API discovery: the link map", tags: ["api"] }, async (c) => {
    const cartridges = await svc.catalogue();
    return {
      type: "links",
      data: apiLinks(
        c.base,
        cartridges.map((x) => x.name),
      ),
    };
  });
  app.get(
    `${PREFIX}/openapi.json`,
    { schema: { hide: true }, config: { auth: "none" } },
    async (_req, reply) => reply.type("application/json; charset=utf-8").send(app.swagger()),
  );
  route(
    "GET",
    "/health",
    { auth: "none", summary: "health of the broker and its database", tags: ["api"] },
    async () => {
      const h = await svc.health();
      return { status: h.ok ? 200 : 503, type: "health", data: { ok: h.ok, checks: h.checks } };
    },
  );
  route(
    "GET",
    "/cartridges",
    { auth: "none", summary: "the cartridge catalogue", tags: ["cartridges"] },
    async () => ({
      type: "cartridges",
      data: (await svc.catalogue()).map((x) => catalogueRep(x)),
    }),
  );
  route(
    "GET",
    "/cartridge/:name",
    { auth: "none", params: "name", summary: "one cartridge of the catalogue", tags: ["cartridges"] },
    async (c) => {
      const found = (await svc.catalogue()).find((x) => x.name === c.params.name);
      if (!found) throw new BrokerNotFoundError(`Cartridge '${c.params.name}' not found`);
      return { type: "cartridge", data: catalogueRep(found) };
    },
  );

  // --- user, keys, authorizations
  const dev: Auth = "user";
  route("GET", "/user", { auth: dev, summary: "the user", tags: ["user"] }, async (c) => ({
    type: "user",
    data: userRep(c.base, await svc.getUser(c.p)),
  }));
  route("GET", "/user/keys", { auth: dev, summary: "list SSH keys", tags: ["keys"] }, async (c) => ({
    type: "keys",
    data: (await svc.listKeys(c.p)).map((k) => keyRep(c.base, k)),
  }));
  route(
    "POST",
    "/user/keys",
    { auth: dev, body: "addKey", summary: "add an SSH key", tags: ["keys"] },
    async (c) => {
      const b = c.body as { name: string; type: string; content: string };
      const k = await svc.addKey(c.p, { name: b.name, type: b.type, content: b.content });
      return {
        status: 201,
        type: "key",
        data: keyRep(c.base, k),
        messages: [message("info", `Created SSH key ${k.name}`)],
      };
    },
  );
  route(
    "GET",
    "/user/keys/:name",
    { auth: dev, params: "name", summary: "show an SSH key", tags: ["keys"] },
    async (c) => ({
      type: "key",
      data: keyRep(c.base, await svc.getKey(c.p, c.params.name)),
    }),
  );
  route(
    "PUT",
    "/user/keys/:name",
    { auth: dev, params: "name", body: "updateKey", summary: "replace an SSH key", tags: ["keys"] },
    async (c) => {
      const b = c.body as { type: string; content: string };
      const k = await svc.updateKey(c.p, c.params.name, { type: b.type, content: b.content });
      return {
        type: "key",
        data: keyRep(c.base, k),
        messages: [message("info", `Updated SSH key ${k.name}`)],
      };
    },
  );
  route(
    "DELETE",
    "/user/keys/:name",
    { auth: dev, params: "name", summary: "remove an SSH key", tags: ["keys"] },
    async (c) => {
      await svc.removeKey(c.p, c.params.name);
      return deleted(`Deleted SSH key ${c.params.name}`);
    },
  );
  route(
    "GET",
    "/user/authorizations",
    { auth: dev, summary: "list tokens", tags: ["authorizations"] },
    async (c) => ({
      type: "authorizations",
      data: (await svc.listAuthorizations(c.p)).map((a) => authorizationRep(c.base, a)),
    }),
  );
  route(
    "POST",
    "/user/authorizations",
    { auth: dev, body: "addAuthorization", summary: "create a token (shown once)", tags: ["authorizations"] },
    async (c) => {
      const b = c.body as { scope?: string; note?: string; expires_in?: number };
      const a = await svc.addAuthorization(c.p, {
        scope: b.scope ?? "userinfo",
        note: b.note ?? "",
        ...(b.expires_in !== undefined && b.expires_in !== -1 ? { expiresIn: b.expires_in } : {}),
      });
      return { status: 201, type: "authorization", data: authorizationRep(c.base, a) };
    },
  );
  route(
    "DELETE",
    "/user/authorizations",
    { auth: dev, summary: "revoke all tokens", tags: ["authorizations"] },
    async (c) => {
      await svc.removeAllAuthorizations(c.p);
      return deleted("All authorizations for the user have been revoked");
    },
  );
  route(
    "GET",
    "/user/authorizations/:id",
    { auth: dev, params: "id", summary: "show a token", tags: ["authorizations"] },
    async (c) => ({
      type: "authorization",
      data: authorizationRep(c.base, await svc.getAuthorization(c.p, c.params.id)),
    }),
  );
  route(
    "DELETE",
    "/user/authorizations/:id",
    { auth: dev, params: "id", summary: "revoke a token", tags: ["authorizations"] },
    async (c) => {
      await svc.removeAuthorization(c.p, c.params.id);
      return deleted(`Authorization ${c.params.id} is revoked`);
    },
  );

  // --- domains
  const suffix = svc.cloudDomain;
  route(
    "GET",
    "/domains",
    { auth: dev, query: stringQuery("owner"), summary: "list your domains", tags: ["domains"] },
    async (c) => ({
      type: "domains",
      data: (await svc.listDomains(c.p)).map((d) => domainRep(c.base, d, suffix)),
    }),
  );
  route(
    "POST",
    "/domains",
    { auth: dev, body: "addDomain", summary: "create a domain", tags: ["domains"] },
    async (c) => {
      const name = String(c.body.name ?? c.body.id);
      const d = await svc.addDomain(c.p, name);
      return {
        status: 201,
        type: "domain",
        data: domainRep(c.base, d, suffix),
        messages: [message("info", `Domain '${name}' created`)],
      };
    },
  );
  route(
    "GET",
    "/domain/:name",
    { auth: dev, params: "domain", summary: "show a domain", tags: ["domains"] },
    async (c) => ({
      type: "domain",
      data: domainRep(c.base, await svc.getDomain(c.p, c.params.name), suffix),
    }),
  );
  route(
    "DELETE",
    "/domain/:name",
    {
      auth: dev,
      params: "domain",
      query: stringQuery("force"),
      summary: "delete a domain",
      tags: ["domains"],
    },
    async (c) => {
      await svc.removeDomain(c.p, c.params.name, c.query.force === "true");
      return deleted(`Domain '${c.params.name}' deleted`);
    },
  );

  // --- applications
  const include = (c: Ctx) => (c.query.include ?? "").split(",").includes("cartridges");
  route(
    "GET",
    "/domain/:name/applications",
    {
      auth: dev,
      params: "domain",
      query: stringQuery("include"),
      summary: "applications of a domain",
      tags: ["applications"],
    },
    async (c) => ({
      type: "applications",
      data: (await svc.listApplications(c.p, c.params.name)).map((a) =>
        applicationRep(c.base, a, { includeCartridges: include(c) }),
      ),
    }),
  );
  route(
    "GET",
    "/applications",
    {
      auth: dev,
      query: stringQuery("include", "owner"),
      summary: "all your applications",
      tags: ["applications"],
    },
    async (c) => ({
      type: "applications",
      data: (await svc.listApplications(c.p)).map((a) =>
        applicationRep(c.base, a, { includeCartridges: include(c) }),
      ),
    }),
  );
  route(
    "POST",
    "/domain/:name/applications",
    {
      auth: dev,
      params: "domain",
      body: "addApplication",
      summary: "create an application",
      tags: ["applications"],
    },
    async (c) => {
      const b = c.body as {
        name: string;
        cartridges?: (string | { name: string })[];
        cartridge?: string;
        environment_variables?: { name: string; value: string }[];
        gear_profile?: string;
      };
      const carts = (b.cartridges ?? (b.cartridge ? [b.cartridge] : [])).map((x) =>
        typeof x === "string" ? x : x.name,
      );
      const r = await svc.addApplication(c.p, c.params.name, {
        name: b.name,
        cartridges: carts,
        environmentVariables: b.environment_variables ?? [],
        ...(b.gear_profile ? { gearProfile: b.gear_profile } : {}),
      });
      return {
        status: 201,
        type: "application",
        data: applicationRep(c.base, r.value, { includeCartridges: true }),
        messages: [message("info", `Application ${b.name} was created.`), ...wireMessages(r.messages)],
      };
    },
  );
  for (const [path, params] of [
    ["/domain/:domain_name/application/:name", "domainApp"],
    ["/application/:id", "app"],
  ] as const) {
    route(
      "GET",
      path,
      {
        auth: dev,
        params,
        query: stringQuery("include"),
        summary: "show an application",
        tags: ["applications"],
      },
      async (c) => ({
        type: "application",
        data: applicationRep(c.base, await svc.getApplication(c.p, appRef(c.params)), {
          includeCartridges: include(c),
        }),
      }),
    );
    route(
      "DELETE",
      path,
      { auth: dev, params, summary: "delete an application", tags: ["applications"] },
      async (c) => {
        const ref = appRef(c.params);
        const a = await svc.getApplication(c.p, ref);
        await svc.removeApplication(c.p, ref);
        return deleted(`Application ${a.name} is deleted.`);
      },
    );
  }
  route(
    "POST",
    "/application/:id/events",
    {
      auth: dev,
      params: "app",
      body: "event",
      summary: "start, stop, restart ... the application",
      tags: ["applications"],
    },
    async (c) => {
      const event = c.body.event as AppEvent;
      const r = await svc.applicationEvent(c.p, appRef(c.params), event);
      return {
        type: "application",
        data: applicationRep(c.base, r.value),
        messages: [
          message("info", `Application ${r.value.name}: ${event} done`),
          ...wireMessages(r.messages),
        ],
      };
    },
  );

  // --- cartridges of an application
  route(
    "GET",
    "/application/:id/cartridges",
    { auth: dev, params: "app", summary: "cartridges of an application", tags: ["cartridges"] },
    async (c) => {
      const a = await svc.getApplication(c.p, appRef(c.params));
      return { type: "cartridges", data: a.cartridges.map((x) => appCartridgeRep(c.base, a, x)) };
    },
  );
  route(
    "POST",
    "/application/:id/cartridges",
    { auth: dev, params: "app", body: "addCartridge", summary: "add a cartridge", tags: ["cartridges"] },
    async (c) => {
      const name = String(c.body.name ?? c.body.cartridge);
      const ref = appRef(c.params);
      const r = await svc.addCartridge(c.p, ref, name);
      const a = await svc.getApplication(c.p, ref);
      return {
        status: 201,
        type: "cartridge",
        data: appCartridgeRep(c.base, a, r.value),
        messages: [message("info", `Added ${name} to application ${a.name}`), ...wireMessages(r.messages)],
      };
    },
  );
  const appCartridge = async (c: Ctx) => {
    const a = await svc.getApplication(c.p, appRef(c.params));
    const x = a.cartridges.find((y) => y.name === c.params.name);
    if (!x) throw new BrokerNotFoundError(`Cartridge '${c.params.name}' not found in application ${a.name}`);
    return { a, x };
  };
  route(
    "GET",
    "/application/:id/cartridge/:name",
    { auth: dev, params: "appCartridge", summary: "one cartridge of an application", tags: ["cartridges"] },
    async (c) => {
      const { a, x } = await appCartridge(c);
      return { type: "cartridge", data: appCartridgeRep(c.base, a, x) };
    },
  );
  route(
    "DELETE",
    "/application/:id/cartridge/:name",
    { auth: dev, params: "appCartridge", summary: "remove a cartridge", tags: ["cartridges"] },
    async (c) => {
      await appCartridge(c);
      const r = await svc.removeCartridge(c.p, appRef(c.params), c.params.name);
      return {
        type: "application",
        data: applicationRep(c.base, r.value),
        messages: [
          message("info", `Removed ${c.params.name} from application ${r.value.name}`),
          ...wireMessages(r.messages),
        ],
      };
    },
  );
  route(
    "POST",
    "/application/:id/cartridge/:name/events",
    {
      auth: dev,
      params: "appCartridge",
      body: "cartridgeEvent",
      summary: "start, stop ... one cartridge",
      tags: ["cartridges"],
    },
    async (c) => {
      const event = c.body.event as CartridgeEvent;
      const r = await svc.cartridgeEvent(c.p, appRef(c.params), c.params.name, event);
      const a = await svc.getApplication(c.p, appRef(c.params));
      return {
        type: "cartridge",
        data: appCartridgeRep(c.base, a, r.value),
        messages: [message("info", `${c.params.name}: ${event} done`), ...wireMessages(r.messages)],
      };
    },
  );

  // --- environment variables, gear groups
  route(
    "GET",
    "/application/:id/environment-variables",
    { auth: dev, params: "app", summary: "environment variables", tags: ["applications"] },
    async (c) => {
      const a = await svc.getApplication(c.p, appRef(c.params));
      return {
        type: "environment-variables",
        data: (await svc.listEnv(c.p, { id: a.id })).map((v) => envRep(c.base, a.id, v)),
      };
    },
  );
  route(
    "PATCH",
    "/application/:id/environment-variables",
    {
      auth: dev,
      params: "app",
      body: "setEnv",
      summary: "set (with value) or unset (without) variables",
      tags: ["applications"],
    },
    async (c) => {
      const changes = (c.body.environment_variables as EnvChange[]).map((v) =>
        v.value === undefined ? { name: v.name } : { name: v.name, value: v.value },
      );
      const a = await svc.getApplication(c.p, appRef(c.params));
      const vars = await svc.setEnv(c.p, { id: a.id }, changes);
      return {
        status: 201,
        type: "environment-variables",
        data: vars.map((v) => envRep(c.base, a.id, v)),
        messages: [message("info", "Updated environment variable(s)")],
      };
    },
  );
  for (const path of ["/application/:id/gear_groups", "/application/:id/gear-groups"]) {
    route(
      "GET",
      path,
      { auth: dev, params: "app", summary: "gear groups (gears and their state)", tags: ["applications"] },
      async (c) => ({
        type: "gear_groups",
        data: gearGroupsRep(await svc.getApplication(c.p, appRef(c.params))),
      }),
    );
  }

  // --- admin (our extension)
  const adm: Auth = "admin";
  route("GET", "/admin/districts", { auth: adm, summary: "districts", tags: ["admin"] }, async (c) => ({
    type: "districts",
    data: (await svc.listDistricts(c.p)).map(districtRep),
  }));
  route(
    "POST",
    "/admin/districts",
    { auth: adm, body: "addDistrict", summary: "create a district", tags: ["admin"] },
    async (c) => {
      const b = c.body as { name: string; gear_profile: string; first_uid?: number; capacity?: number };
      const d = await svc.createDistrict(c.p, {
        name: b.name,
        gearProfile: b.gear_profile,
        ...(b.first_uid !== undefined ? { firstUid: b.first_uid } : {}),
        ...(b.capacity !== undefined ? { capacity: b.capacity } : {}),
      });
      return { status: 201, type: "district", data: districtRep(d) };
    },
  );
  route(
    "GET",
    "/admin/district/:name",
    { auth: adm, params: "name", summary: "show a district", tags: ["admin"] },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.getDistrict(c.p, c.params.name)),
    }),
  );
  route(
    "POST",
    "/admin/district/:name/nodes",
    {
      auth: adm,
      params: "name",
      body: "addDistrictNode",
      summary: "add a node to a district",
      tags: ["admin"],
    },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.addDistrictNode(c.p, c.params.name, String(c.body.node))),
    }),
  );
  route(
    "DELETE",
    "/admin/district/:name/node/:node",
    {
      auth: adm,
      params: "districtNode",
      summary: "remove a (deactivated, empty) node from a district",
      tags: ["admin"],
    },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.removeDistrictNode(c.p, c.params.name, c.params.node)),
    }),
  );
  route(
    "POST",
    "/admin/district/:name/node/:node/events",
    {
      auth: adm,
      params: "districtNode",
      body: "districtNodeEvent",
      summary: "activate or deactivate a node",
      tags: ["admin"],
    },
    async (c) => ({
      type: "district",
      data: districtRep(
        await svc.setDistrictNodeActive(c.p, c.params.name, c.params.node, c.body.event === "activate"),
      ),
    }),
  );
  route(
    "POST",
    "/admin/district/:name/capacity",
    { auth: adm, params: "name", body: "districtCapacity", summary: "add or remove UIDs", tags: ["admin"] },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.changeDistrictCapacity(c.p, c.params.name, Number(c.body.change))),
    }),
  );
  route(
    "GET",
    "/admin/nodes",
    { auth: adm, summary: "nodes with their facts", tags: ["admin"] },
    async (c) => ({
      type: "nodes",
      data: (await svc.listNodes(c.p)).map(nodeRep),
    }),
  );
  route(
    "GET",
    "/admin/node/:name",
    { auth: adm, params: "name", summary: "one node", tags: ["admin"] },
    async (c) => ({
      type: "node",
      data: nodeRep(await svc.getNode(c.p, c.params.name)),
    }),
  );
  route(
    "GET",
    "/admin/node/:name/gears",
    { auth: adm, params: "name", summary: "what the node really has (asked over the bus)", tags: ["admin"] },
    async (c) => ({ type: "node-gears", data: await svc.nodeGears(c.p, c.params.name) }),
  );
  route(
    "GET",
    "/admin/gears",
    { auth: adm, summary: "the broker's gear records", tags: ["admin"] },
    async (c) => ({
      type: "gears",
      data: (await svc.listGearRecords(c.p)).map(gearRecordRep),
    }),
  );
  route("GET", "/admin/users", { auth: adm, summary: "users", tags: ["admin"] }, async (c) => ({
    type: "users",
    data: (await svc.listUsers(c.p)).map((u) => userRep(c.base, u)),
  }));
  route(
    "POST",
    "/admin/users",
    { auth: adm, body: "addUser", summary: "create a user", tags: ["admin"] },
    async (c) => {
      const b = c.body as {
        login: string;
        password: string;
        role?: Role;
        max_gears?: number;
        max_domains?: number;
      };
      const u = await svc.createUser(c.p, {
        login: b.login,
        password: b.password,
        ...(b.role ? { role: b.role } : {}),
        ...(b.max_gears !== undefined ? { maxGears: b.max_gears } : {}),
        ...(b.max_domains !== undefined ? { maxDomains: b.max_domains } : {}),
      });
      return { status: 201, type: "user", data: userRep(c.base, u) };
    },
  );

  return app;
}
