// A small in-memory stand-in for the broker's REST API (OpenShift v1.7 shapes, as docs/control-plane.md
// "REST API" describes), for unit tests of the client and the CLI. Not the broker: only enough to drive them.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";

export interface StubRequest {
  method: string;
  url: string;
  accept?: string;
  contentType?: string;
  authorization?: string;
  body: unknown;
}

export interface StubBroker {
  url: string;
  requests: StubRequest[];
  state: {
    domains: { name: string; owner: string }[];
    apps: {
      id: string;
      name: string;
      domain: string;
      cartridges: string[];
      env: Record<string, string>;
      state: string;
    }[];
    keys: { name: string; type: string; content: string }[];
    tokens: Map<string, string>;
    districts: {
      name: string;
      gear_profile: string;
      first_uid: number;
      max_uid: number;
      nodes: { name: string; active: boolean }[];
    }[];
    gears: Record<string, unknown>[];
    nodes: Record<string, unknown>[];
    nodeGears: Record<string, { gears: unknown[]; frontends: unknown[] } | "fail">;
    /** add-node refusals left per node ("has never reported facts"), as for an agent not heard yet */
    unreported: Record<string, number>;
  };
  /** delay of app create, ms */
  createDelayMs: number;
  close(): Promise<void>;
}

const USERS: Record<string, { password: string; role: string }> = {
  demo: { password: "s3cret-pw", role: "user" },
  admin: { password: "admin-pw", role: "admin" },
};

function env(status: string, type: string | null, data: unknown, messages: unknown[] = []) {
  return { api_version: 1.7, version: "1.7", status, type, data, messages, supported_api_versions: [1.7] };
}

function link(method: string, href: string, required: string[] = []) {
  return {
    rel: href,
    method,
    href,
    required_params: required.map((name) => ({ name, type: "string", description: name, valid_options: [] })),
    optional_params: [],
  };
}

export async function startStubBroker(opts: { versions?: number[] } = {}): Promise<StubBroker> {
  const app: FastifyInstance = Fastify({ logger: false });
  const requests: StubRequest[] = [];
  const state: StubBroker["state"] = {
    domains: [],
    apps: [],
    keys: [],
    tokens: new Map(),
    districts: [],
    gears: [],
    nodes: [],
    nodeGears: {},
    unreported: {},
  };
  const stub = { createDelayMs: 0 } as StubBroker;
  let base = "";
  const versions = opts.versions ?? [1.7];

  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, (body as string).length ? JSON.parse(body as string) : undefined);
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addHook("onRequest", async (req) => {
    requests.push({
      method: req.method,
      url: req.url,
      accept: req.headers.accept,
      contentType: req.headers["content-type"],
      authorization: req.headers.authorization,
      body: undefined,
    });
  });
  app.addHook("preHandler", async (req) => {
    requests[requests.length - 1].body = req.body;
  });

  const who = (req: FastifyRequest): { login: string; role: string } | null => {
    const h = req.headers.authorization ?? "";
    if (h.startsWith("Bearer ")) {
      const login = state.tokens.get(h.slice(7));
      return login ? { login, role: USERS[login].role } : null;
    }
    if (h.startsWith("Basic ")) {
      const [login, password] = Buffer.from(h.slice(6), "base64").toString().split(":");
      const u = USERS[login];
      return u && u.password === password ? { login, role: u.role } : null;
    }
    return null;
  };
  const auth = (req: FastifyRequest, reply: FastifyReply, admin = false) => {
    const p = who(req);
    if (p === null) {
      void reply
        .code(401)
        .header("www-authenticate", 'Basic realm="stub"')
        .send(
          env("unauthorized", null, null, [
            { severity: "error", text: "Not authenticated", exit_code: 1, field: null },
          ]),
        );
      return null;
    }
    if (admin && p.role !== "admin") {
      void reply
        .code(403)
        .send(
          env("forbidden", null, null, [
            { severity: "error", text: "admin only", exit_code: 1, field: null },
          ]),
        );
      return null;
    }
    return p;
  };
  const notFound = (reply: FastifyReply, text: string, code: number) =>
    reply
      .code(404)
      .send(env("not_found", null, null, [{ severity: "error", text, exit_code: code, field: null }]));
  const domainRep = (d: { name: string; owner: string }) => ({
    id: `id-${d.name}`,
    name: d.name,
    suffix: "apps.stub.test",
    members: [{ login: d.owner, owner: true, role: "admin" }],
    links: {
      GET: link("GET", `${base}/domain/${d.name}`),
      LIST_APPLICATIONS: link("GET", `${base}/domain/${d.name}/applications`),
      ADD_APPLICATION: link("POST", `${base}/domain/${d.name}/applications`, ["name"]),
      DELETE: link("DELETE", `${base}/domain/${d.name}`),
    },
  });
  const appRep = (a: StubBroker["state"]["apps"][number], include = false) => {
    const href = `${base}/application/${a.id}`;
    const ev = link("POST", `${href}/events`, ["event"]);
    return {
      id: a.id,
      name: a.name,
      domain_id: a.domain,
      app_url: `http://${a.name}-${a.domain}.apps.stub.test/`,
      git_url: `ssh://${a.id}@${a.name}-${a.domain}.apps.stub.test/~/git/${a.name}.git/`,
      ssh_url: `ssh://${a.id}@${a.name}-${a.domain}.apps.stub.test`,
      gear_profile: "small",
      gear_count: 1,
      framework: a.cartridges[0],
      state: a.state,
      ...(include ? { cartridges: a.cartridges.map((c) => cartRep(a, c)) } : {}),
      links: {
        GET: link("GET", href),
        START: ev,
        STOP: ev,
        RESTART: ev,
        FORCE_STOP: ev,
        RELOAD: ev,
        TIDY: ev,
        ADD_CARTRIDGE: link("POST", `${href}/cartridges`, ["name"]),
        LIST_CARTRIDGES: link("GET", `${href}/cartridges`),
        LIST_ENVIRONMENT_VARIABLES: link("GET", `${href}/environment-variables`),
        SET_UNSET_ENVIRONMENT_VARIABLES: link("PATCH", `${href}/environment-variables`),
        GET_GEAR_GROUPS: link("GET", `${href}/gear_groups`),
        DELETE: link("DELETE", href),
      },
    };
  };
  const cartRep = (a: { id: string }, c: string) => ({
    name: c,
    type: c.startsWith("postgresql") ? "embedded" : "standalone",
    display_name: c,
    properties: c.startsWith("postgresql")
      ? [{ name: "connection_url", value: "postgresql://x", type: "cart_data" }]
      : [],
    current_scale: 1,
    links: { DELETE: link("DELETE", `${base}/application/${a.id}/cartridge/${c}`) },
  });
  const findApp = (domain: string, name: string, login: string) =>
    state.apps.find(
      (a) =>
        a.domain === domain &&
        a.name === name &&
        state.domains.some((d) => d.name === domain && d.owner === login),
    );
  const byId = (id: string, login: string) =>
    state.apps.find(
      (a) => a.id === id && state.domains.some((d) => d.name === a.domain && d.owner === login),
    );

  app.get("/broker/rest/api", async (req, reply) => {
    const wanted = /version=([0-9.]+)/.exec(req.headers.accept ?? "")?.[1];
    if (wanted !== undefined && !versions.includes(Number(wanted)))
      return reply
        .code(406)
        .send(
          env("not_acceptable", null, null, [
            { severity: "error", text: `version ${wanted} not supported`, exit_code: 1, field: null },
          ]),
        );
    return {
      ...env("ok", "links", {
        API: link("GET", `${base}/api`),
        GET_USER: link("GET", `${base}/user`),
        LIST_KEYS: link("GET", `${base}/user/keys`),
        ADD_KEY: link("POST", `${base}/user/keys`, ["name", "type", "content"]),
        ADD_AUTHORIZATION: link("POST", `${base}/user/authorizations`),
        ADD_DOMAIN: link("POST", `${base}/domains`, ["name"]),
        LIST_DOMAINS: link("GET", `${base}/domains`),
        SHOW_DOMAIN: link("GET", `${base}/domain/:name`, ["name"]),
        LIST_APPLICATIONS: link("GET", `${base}/applications`),
        SHOW_APPLICATION_BY_DOMAIN: link("GET", `${base}/domain/:domain_name/application/:name`, [
          "domain_name",
          "name",
        ]),
        LIST_CARTRIDGES: link("GET", `${base}/cartridges`),
      }),
      api_version: wanted === undefined ? versions[0] - 0.4 : Number(wanted),
      supported_api_versions: versions,
    };
  });
  app.get("/broker/rest/cartridges", async () =>
    env("ok", "cartridges", [
      { name: "nodejs-20", type: "standalone", display_name: "Node.js 20" },
      { name: "postgresql-15", type: "embedded", display_name: "PostgreSQL 15" },
    ]),
  );
  app.get("/broker/rest/user", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    return env("ok", "user", {
      id: `u-${p.login}`,
      login: p.login,
      links: { ADD_KEY: link("POST", `${base}/user/keys`), LIST_KEYS: link("GET", `${base}/user/keys`) },
    });
  });
  app.post("/broker/rest/user/authorizations", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const token = `tok-${state.tokens.size + 1}-${p.login}`;
    state.tokens.set(token, p.login);
    return reply
      .code(201)
      .send(env("created", "authorization", { id: `a${state.tokens.size}`, token, scopes: "session" }));
  });
  app.get("/broker/rest/user/keys", async (req, reply) => {
    if (!auth(req, reply)) return reply;
    return env(
      "ok",
      "keys",
      state.keys.map((k) => ({ ...k, links: { DELETE: link("DELETE", `${base}/user/keys/${k.name}`) } })),
    );
  });
  app.post("/broker/rest/user/keys", async (req, reply) => {
    if (!auth(req, reply)) return reply;
    const b = req.body as { name: string; type: string; content: string };
    if (state.keys.some((k) => k.name === b.name))
      return reply
        .code(409)
        .send(
          env("conflict", null, null, [
            { severity: "error", text: `key ${b.name} exists`, exit_code: 120, field: "name" },
          ]),
        );
    state.keys.push(b);
    return reply.code(201).send(env("created", "key", b));
  });
  app.delete("/broker/rest/user/keys/:name", async (req, reply) => {
    if (!auth(req, reply)) return reply;
    const { name } = req.params as { name: string };
    state.keys = state.keys.filter((k) => k.name !== name);
    return env("ok", null, null, [
      { severity: "info", text: `key ${name} deleted`, exit_code: 0, field: null },
    ]);
  });
  app.get("/broker/rest/domains", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    return env("ok", "domains", state.domains.filter((d) => d.owner === p.login).map(domainRep));
  });
  app.post("/broker/rest/domains", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const name = (req.body as { name?: string; id?: string }).name ?? (req.body as { id?: string }).id;
    if (!name || !/^[a-z0-9]{1,16}$/.test(name))
      return reply.code(422).send(
        env("unprocessable_entity", null, null, [
          {
            severity: "error",
            text: "invalid name: must be 1-16 lower-case letters or digits",
            exit_code: 106,
            field: "name",
          },
        ]),
      );
    if (state.domains.some((d) => d.name === name))
      return reply.code(422).send(
        env("unprocessable_entity", null, null, [
          {
            severity: "error",
            text: `Namespace '${name}' is already in use.`,
            exit_code: 103,
            field: "id",
          },
        ]),
      );
    state.domains.push({ name, owner: p.login });
    return reply.code(201).send(env("created", "domain", domainRep({ name, owner: p.login })));
  });
  app.get("/broker/rest/domain/:name", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const d = state.domains.find(
      (x) => x.name === (req.params as { name: string }).name && x.owner === p.login,
    );
    return d
      ? env("ok", "domain", domainRep(d))
      : notFound(reply, `Domain '${(req.params as { name: string }).name}' not found`, 127);
  });
  app.delete("/broker/rest/domain/:name", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const { name } = req.params as { name: string };
    state.domains = state.domains.filter((d) => !(d.name === name && d.owner === p.login));
    return env("ok", null, null, [
      { severity: "info", text: `Domain ${name} deleted.`, exit_code: 0, field: null },
    ]);
  });
  app.get("/broker/rest/domain/:name/applications", async (req, reply) => {
    if (!auth(req, reply)) return reply;
    return env(
      "ok",
      "applications",
      state.apps.filter((a) => a.domain === (req.params as { name: string }).name).map((a) => appRep(a)),
    );
  });
  app.get("/broker/rest/applications", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    return env(
      "ok",
      "applications",
      state.apps
        .filter((a) => state.domains.some((d) => d.name === a.domain && d.owner === p.login))
        .map((a) => appRep(a)),
    );
  });
  app.post("/broker/rest/domain/:name/applications", async (req, reply) => {
    if (!auth(req, reply)) return reply;
    const b = req.body as {
      name: string;
      cartridges: string[];
      environment_variables?: { name: string; value: string }[];
    };
    if (stub.createDelayMs) await new Promise((r) => setTimeout(r, stub.createDelayMs));
    const a = {
      id: `${state.apps.length + 1}`.padStart(32, "a"),
      name: b.name,
      domain: (req.params as { name: string }).name,
      cartridges: b.cartridges,
      env: Object.fromEntries((b.environment_variables ?? []).map((v) => [v.name, v.value])),
      state: "started",
    };
    state.apps.push(a);
    return reply.code(201).send(
      env("created", "application", appRep(a), [
        { severity: "info", text: "Application created", exit_code: 0, field: null },
        { severity: "result", text: "nodejs-20 installed", exit_code: 0, field: "result" },
      ]),
    );
  });
  app.get("/broker/rest/domain/:domain/application/:name", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const { domain, name } = req.params as { domain: string; name: string };
    const a = findApp(domain, name, p.login);
    if (!a) return notFound(reply, `Application '${name}' not found for domain '${domain}'`, 101);
    return env("ok", "application", appRep(a, (req.query as { include?: string }).include === "cartridges"));
  });
  app.delete("/broker/rest/application/:id", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const a = byId((req.params as { id: string }).id, p.login);
    if (!a) return notFound(reply, "not found", 101);
    state.apps = state.apps.filter((x) => x !== a);
    return env("ok", null, null, [
      { severity: "info", text: `Application ${a.name} is deleted.`, exit_code: 0, field: null },
    ]);
  });
  app.post("/broker/rest/application/:id/events", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const a = byId((req.params as { id: string }).id, p.login);
    if (!a) return notFound(reply, "not found", 101);
    const event = (req.body as { event: string }).event;
    a.state = event === "stop" ? "stopped" : "started";
    return env("ok", "application", appRep(a), [
      { severity: "info", text: `${event} done`, exit_code: 0, field: null },
    ]);
  });
  app.post("/broker/rest/application/:id/cartridges", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const a = byId((req.params as { id: string }).id, p.login)!;
    const name = (req.body as { name: string }).name;
    if (name !== "postgresql-15")
      return reply
        .code(422)
        .send(
          env("unprocessable_entity", null, null, [
            { severity: "error", text: `Invalid cartridge '${name}'`, exit_code: 109, field: "name" },
          ]),
        );
    a.cartridges.push(name);
    return reply
      .code(201)
      .send(
        env("created", "cartridge", cartRep(a, name), [
          { severity: "result", text: "PostgreSQL password: pw", exit_code: 0, field: "result" },
        ]),
      );
  });
  app.delete("/broker/rest/application/:id/cartridge/:name", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const a = byId((req.params as { id: string }).id, p.login)!;
    a.cartridges = a.cartridges.filter((c) => c !== (req.params as { name: string }).name);
    return env("ok", "application", appRep(a));
  });
  app.get("/broker/rest/application/:id/environment-variables", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const a = byId((req.params as { id: string }).id, p.login)!;
    return env(
      "ok",
      "environment-variables",
      Object.entries(a.env).map(([name, value]) => ({ name, value })),
    );
  });
  app.patch("/broker/rest/application/:id/environment-variables", async (req, reply) => {
    const p = auth(req, reply);
    if (!p) return reply;
    const a = byId((req.params as { id: string }).id, p.login)!;
    for (const v of (req.body as { environment_variables: { name: string; value?: string }[] })
      .environment_variables) {
      if (v.value === undefined) delete a.env[v.name];
      else a.env[v.name] = v.value;
    }
    return reply.code(201).send(
      env(
        "created",
        "environment-variables",
        Object.entries(a.env).map(([name, value]) => ({ name, value })),
      ),
    );
  });
  // admin
  const districtRep = (d: StubBroker["state"]["districts"][number]) => ({
    ...d,
    uuid: `uuid-${d.name}`,
    max_capacity: d.max_uid - d.first_uid + 1,
    available_capacity: d.max_uid - d.first_uid + 1,
  });
  app.get("/broker/rest/admin/districts", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    return env("ok", "districts", state.districts.map(districtRep));
  });
  app.post("/broker/rest/admin/districts", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const b = req.body as { name: string; gear_profile: string; first_uid?: number; capacity?: number };
    if (state.districts.some((x) => x.name === b.name))
      return reply
        .code(409)
        .send(
          env("conflict", null, null, [
            { severity: "error", text: `district ${b.name} exists`, exit_code: 1, field: "name" },
          ]),
        );
    const first = b.first_uid ?? 1000;
    const d = {
      name: b.name,
      gear_profile: b.gear_profile,
      first_uid: first,
      max_uid: first + (b.capacity ?? 6000) - 1,
      nodes: [],
    };
    state.districts.push(d);
    return reply.code(201).send(env("created", "district", districtRep(d)));
  });
  app.get("/broker/rest/admin/district/:name", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const d = state.districts.find((x) => x.name === (req.params as { name: string }).name);
    return d ? env("ok", "district", districtRep(d)) : notFound(reply, "district not found", 1);
  });
  app.delete("/broker/rest/admin/district/:name", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const name = (req.params as { name: string }).name;
    const d = state.districts.find((x) => x.name === name);
    if (!d) return notFound(reply, `district ${name} not found`, 1);
    if (d.nodes.length)
      return reply
        .code(409)
        .send(
          env("conflict", null, null, [
            { severity: "error", text: "the district still has nodes", exit_code: 1 },
          ]),
        );
    state.districts = state.districts.filter((x) => x !== d);
    return env("ok", null, null, [{ severity: "info", text: `District '${name}' deleted`, exit_code: 0 }]);
  });
  app.post("/broker/rest/admin/district/:name/nodes", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const node = (req.body as { node: string }).node;
    if ((state.unreported[node] ?? 0) > 0) {
      state.unreported[node]--;
      return reply.code(422).send(
        env("unprocessable_entity", null, null, [
          {
            severity: "error",
            text: `invalid node: node ${node} has never reported facts (is its agent running?)`,
            exit_code: 1,
            field: "node",
          },
        ]),
      );
    }
    const d = state.districts.find((x) => x.name === (req.params as { name: string }).name)!;
    d.nodes.push({ name: (req.body as { node: string }).node, active: true });
    return env("ok", "district", districtRep(d));
  });
  app.delete("/broker/rest/admin/district/:name/node/:node", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const { name, node } = req.params as { name: string; node: string };
    const d = state.districts.find((x) => x.name === name)!;
    d.nodes = d.nodes.filter((n) => n.name !== node);
    return env("ok", "district", districtRep(d));
  });
  app.post("/broker/rest/admin/district/:name/node/:node/events", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const { name, node } = req.params as { name: string; node: string };
    const d = state.districts.find((x) => x.name === name)!;
    const n = d.nodes.find((x) => x.name === node)!;
    n.active = (req.body as { event: string }).event === "activate";
    return env("ok", "district", districtRep(d));
  });
  app.get("/broker/rest/admin/nodes", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    return env("ok", "nodes", state.nodes);
  });
  app.get("/broker/rest/admin/node/:name", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const n = state.nodes.find((x) => x.name === (req.params as { name: string }).name);
    return n ? env("ok", "node", n) : notFound(reply, "node not found", 1);
  });
  app.get("/broker/rest/admin/node/:name/gears", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    const g = state.nodeGears[(req.params as { name: string }).name];
    if (g === "fail")
      return reply
        .code(503)
        .send(
          env("service_unavailable", null, null, [
            { severity: "error", text: "node did not answer within 5000 ms", exit_code: 1, field: null },
          ]),
        );
    return env("ok", "node-gears", g ?? { gears: [], frontends: [] });
  });
  app.get("/broker/rest/admin/gears", async (req, reply) => {
    if (!auth(req, reply, true)) return reply;
    return env("ok", "gears", state.gears);
  });

  await app.listen({ port: 0, host: "127.0.0.1" });
  const port = (app.server.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}/broker/rest`;
  return Object.assign(stub, {
    url: `http://127.0.0.1:${port}`,
    requests,
    state,
    close: () => app.close(),
  });
}
