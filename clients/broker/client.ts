// A typed client of the OpenShift v2 broker REST API v1.7 (shared/reference/openshift-rest-api.md), over
// Node's fetch. It starts as rhc does, with `GET /broker/rest/api` without credentials, negotiates the
// version, then follows links by name (hrefs are whatever the broker says), sends JSON bodies with
// `Content-Type: application/json;version=1.7`, GET parameters in the query string, and turns error replies
// into common/errors.ts classes with the field (model.ts errorForReply). Shared by the CLI and (#12) the
// Pulumi providers, so it prints nothing and knows nothing of a command line.

import { NotFoundError, UnavailableError, ValidationError } from "../../common/errors";
import {
  API_VERSION,
  apiRoot,
  errorForReply,
  escapeSegment,
  expandHref,
  findLink,
  messagesToShow,
  negotiateVersion,
  parseEnvelope,
  replyVersion,
  VERSIONED_JSON,
  withQuery,
  type Envelope,
  type LinkMap,
  type WireLink,
} from "./model";
import type {
  Application,
  ApplicationLiveState,
  Authorization,
  Cartridge,
  District,
  Domain,
  EnvironmentVariable,
  GearGroup,
  GearRecord,
  NodeGears,
  NodeRecord,
  Result,
  SshKey,
  User,
} from "./types";

export type Credentials =
  { readonly login: string; readonly password: string } | { readonly token: string } | null;

export interface ClientOptions {
  /** the broker: a host name, `https://host`, or the API URL `https://host/broker/rest/api` */
  readonly server: string;
  readonly credentials?: Credentials;
  /** per request; default 300 s (an app create waits for the nodes) */
  readonly timeoutMs?: number;
  /** default the global fetch (tests pass their own) */
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
}

export interface RequestOptions {
  /** values of the href's `:word` templates */
  readonly params?: Readonly<Record<string, string>>;
  /** GET parameters (query string) */
  readonly query?: Readonly<Record<string, string>>;
  /** JSON body (POST, PUT, PATCH, DELETE) */
  readonly body?: unknown;
  /** false: send no credentials (discovery, the catalogue) */
  readonly auth?: boolean;
}

export interface NewApplication {
  readonly name: string;
  readonly cartridges: readonly string[];
  readonly environmentVariables?: readonly EnvironmentVariable[];
  readonly gearProfile?: string;
}

export type AppEvent = "start" | "stop" | "force-stop" | "restart" | "reload" | "tidy";

const EVENT_LINKS: Record<AppEvent, string> = {
  start: "START",
  stop: "STOP",
  "force-stop": "FORCE_STOP",
  restart: "RESTART",
  reload: "RELOAD",
  tidy: "TIDY",
};

function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`, "utf8").toString("base64")}`;
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

export class BrokerClient {
  /** `https://host/broker/rest` */
  readonly root: string;
  private readonly credentials: Credentials;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly userAgent: string;
  private discovered: Promise<LinkMap> | null = null;

  constructor(opts: ClientOptions) {
    this.root = apiRoot(opts.server);
    this.credentials = opts.credentials ?? null;
    this.timeoutMs = opts.timeoutMs ?? 300_000;
    this.fetchFn = opts.fetch ?? fetch;
    this.userAgent = opts.userAgent ?? `geartrain-client (API [${API_VERSION.toFixed(1)}])`;
  }

  /** A client for the same broker with other credentials (after login: the token). */
  withCredentials(credentials: Credentials): BrokerClient {
    return new BrokerClient({
      server: this.root,
      credentials,
      timeoutMs: this.timeoutMs,
      fetch: this.fetchFn,
      userAgent: this.userAgent,
    });
  }

  // --- the protocol

  /** The API's link map (`GET /api` without credentials, version negotiated); fetched once. */
  links(): Promise<LinkMap> {
    if (this.discovered === null) {
      this.discovered = this.discover();
      this.discovered.catch(() => (this.discovered = null));
    }
    return this.discovered;
  }

  private async discover(): Promise<LinkMap> {
    const url = `${this.root}/api`;
    let env = await this.send("GET", url, { auth: false, accept: "application/json" });
    const supported = env.supported_api_versions;
    if (!Array.isArray(supported))
      throw new UnavailableError(
        `GET ${url}: the reply has no supported_api_versions: is this an OpenShift broker?`,
      );
    const version = negotiateVersion(supported);
    if (version === null)
      throw new UnavailableError(
        `GET ${url}: the broker speaks API ${supported.join(", ")}; this client speaks ${API_VERSION.toFixed(1)}`,
      );
    if (replyVersion(env) !== version) env = await this.send("GET", url, { auth: false });
    if (typeof env.data !== "object" || env.data === null)
      throw new UnavailableError(`GET ${url}: the reply has no link map`);
    return env.data as LinkMap;
  }

  /** The link `name` of `links` (rhc's lookup); a clear error when the broker does not offer it. */
  link(links: LinkMap | undefined, name: string, of = "the API"): WireLink {
    const l = findLink(links, name);
    if (l === null) throw new UnavailableError(`the broker does not offer ${name} on ${of}`);
    return l;
  }

  /** Follows `link`: expands its templates, sends query or body, returns the reply's envelope. */
  async follow<T = unknown>(link: WireLink, opts: RequestOptions = {}): Promise<Envelope<T>> {
    const url = withQuery(expandHref(link.href, opts.params), opts.query);
    return (await this.send(link.method.toUpperCase(), url, opts)) as Envelope<T>;
  }

  /** Follows the API link `name` (discovering first). */
  async call<T = unknown>(name: string, opts: RequestOptions = {}): Promise<Envelope<T>> {
    return this.follow<T>(this.link(await this.links(), name), opts);
  }

  /** A request to a path of ours below the API root (the admin API, which /api does not list). */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<Envelope<T>> {
    await this.links(); // negotiate first, as for every other request
    return (await this.send(method, withQuery(`${this.root}${path}`, opts.query), opts)) as Envelope<T>;
  }

  private async send(
    method: string,
    url: string,
    opts: RequestOptions & { accept?: string },
  ): Promise<Envelope> {
    const what = `${method} ${url}`;
    const headers: Record<string, string> = {
      accept: opts.accept ?? VERSIONED_JSON,
      "user-agent": this.userAgent,
    };
    if (opts.auth !== false && this.credentials !== null) {
      headers.authorization =
        "token" in this.credentials
          ? `Bearer ${this.credentials.token}`
          : basic(this.credentials.login, this.credentials.password);
    }
    let body: string | undefined;
    if (method !== "GET" && method !== "HEAD") {
      headers["content-type"] = VERSIONED_JSON;
      if (opts.body !== undefined) body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      if ((err as Error).name === "TimeoutError")
        throw new UnavailableError(`${what}: no answer within ${this.timeoutMs} ms`);
      throw new UnavailableError(`${what}: cannot reach the broker (${describeCause(err)})`);
    }
    const text = await res.text();
    if (res.status === 204) return { type: null, data: null, messages: [] };
    const env = parseEnvelope(text);
    if (res.status >= 200 && res.status < 300) {
      if (env === null) throw errorForReply(res.status === 200 ? 500 : res.status, null, what);
      return env;
    }
    throw errorForReply(res.status, env, what);
  }

  private result<T>(env: Envelope<T>): Result<T> {
    return { value: env.data, messages: messagesToShow(env.messages) };
  }

  // --- user, keys, authorizations

  async user(): Promise<User> {
    return (await this.call<User>("GET_USER")).data;
  }

  /** A token for these credentials (`ADD_AUTHORIZATION`); `scope` session can do everything the user can. */
  async addAuthorization(
    req: { scope?: string; note?: string; expiresIn?: number } = {},
  ): Promise<Authorization> {
    const env = await this.call<Authorization>("ADD_AUTHORIZATION", {
      body: {
        scope: req.scope ?? "session",
        ...(req.note !== undefined ? { note: req.note } : {}),
        ...(req.expiresIn !== undefined ? { expires_in: req.expiresIn } : {}),
      },
    });
    if (typeof env.data?.token !== "string" || env.data.token.length === 0)
      throw new UnavailableError("the broker's ADD_AUTHORIZATION reply has no token");
    return env.data;
  }

  async listKeys(): Promise<SshKey[]> {
    return (await this.call<SshKey[]>("LIST_KEYS")).data ?? [];
  }

  async addKey(key: { name: string; type: string; content: string }): Promise<SshKey> {
    const u = await this.user();
    return (await this.follow<SshKey>(this.link(u.links, "ADD_KEY", "the user"), { body: key })).data;
  }

  async removeKey(name: string): Promise<void> {
    const key = (await this.listKeys()).find((k) => k.name === name);
    if (key === undefined) throw new NotFoundError(`no SSH key named ${JSON.stringify(name)}`);
    await this.follow(this.link(key.links, "DELETE", `key ${name}`));
  }

  // --- domains

  async listDomains(): Promise<Domain[]> {
    return ((await this.call<Domain[]>("LIST_DOMAINS")).data ?? []).map(normalizeDomain);
  }

  async addDomain(name: string): Promise<Domain> {
    // rhc always sends `id`; our broker advertises `name` (origin 1.6+) and accepts both
    const link = this.link(await this.links(), "ADD_DOMAIN");
    return normalizeDomain((await this.follow<Domain>(link, { body: { name } })).data);
  }

  async domain(name: string): Promise<Domain> {
    return normalizeDomain((await this.call<Domain>("SHOW_DOMAIN", { params: { name } })).data);
  }

  async deleteDomain(name: string, opts: { force?: boolean } = {}): Promise<Result<null>> {
    const d = await this.domain(name);
    const env = await this.follow<null>(this.link(d.links, "DELETE", `domain ${name}`), {
      ...(opts.force ? { query: { force: "true" } } : {}),
    });
    return this.result(env);
  }

  // --- applications

  /** The apps of one domain, or of every domain the user sees. */
  async listApplications(domain?: string): Promise<Application[]> {
    if (domain !== undefined) {
      const d = await this.domain(domain);
      return (
        (await this.follow<Application[]>(this.link(d.links, "LIST_APPLICATIONS", `domain ${domain}`)))
          .data ?? []
      );
    }
    return (await this.call<Application[]>("LIST_APPLICATIONS")).data ?? [];
  }

  async application(
    domain: string,
    name: string,
    opts: { includeCartridges?: boolean } = {},
  ): Promise<Application> {
    return (
      await this.call<Application>("SHOW_APPLICATION_BY_DOMAIN", {
        params: { domain_name: domain, name },
        ...(opts.includeCartridges ? { query: { include: "cartridges" } } : {}),
      })
    ).data;
  }

  async createApplication(domain: string, req: NewApplication): Promise<Result<Application>> {
    if (req.cartridges.length === 0)
      throw new ValidationError("cartridges", "an application needs a web cartridge");
    const d = await this.domain(domain);
    const env = await this.follow<Application>(this.link(d.links, "ADD_APPLICATION", `domain ${domain}`), {
      body: {
        name: req.name,
        cartridges: req.cartridges,
        ...(req.environmentVariables?.length ? { environment_variables: req.environmentVariables } : {}),
        ...(req.gearProfile !== undefined ? { gear_profile: req.gearProfile } : {}),
      },
    });
    return this.result(env);
  }

  async deleteApplication(domain: string, name: string): Promise<Result<null>> {
    const a = await this.application(domain, name);
    return this.result(await this.follow<null>(this.link(a.links, "DELETE", `application ${name}`)));
  }

  async applicationEvent(domain: string, name: string, event: AppEvent): Promise<Result<Application>> {
    const a = await this.application(domain, name);
    const link = this.link(a.links, EVENT_LINKS[event], `application ${name}`);
    return this.result(await this.follow<Application>(link, { body: { event } }));
  }

  async gearGroups(domain: string, name: string): Promise<GearGroup[]> {
    const a = await this.application(domain, name);
    return (
      (await this.follow<GearGroup[]>(this.link(a.links, "GET_GEAR_GROUPS", `application ${name}`))).data ??
      []
    );
  }

  /** What the nodes really have: each gear's limits, MCS label, drift, cartridge status and route. */
  async liveState(domain: string, name: string): Promise<ApplicationLiveState> {
    return this.liveStateOf(await this.application(domain, name));
  }

  /** liveState of an application already fetched (its links): one request instead of two. */
  async liveStateOf(a: Application): Promise<ApplicationLiveState> {
    return (
      await this.follow<ApplicationLiveState>(this.link(a.links, "GET_LIVE_STATE", `application ${a.name}`))
    ).data;
  }

  /** Converges each gear to its spec and the cartridges to the application's state; the live state after. */
  async repairApplication(domain: string, name: string): Promise<Result<ApplicationLiveState>> {
    const a = await this.application(domain, name);
    return this.result(
      await this.follow<ApplicationLiveState>(this.link(a.links, "REPAIR", `application ${name}`), {
        body: {},
      }),
    );
  }

  // --- cartridges

  /** The catalogue (no login needed). */
  async catalogue(): Promise<Cartridge[]> {
    return (await this.call<Cartridge[]>("LIST_CARTRIDGES", { auth: false })).data ?? [];
  }

  async applicationCartridges(domain: string, app: string): Promise<Cartridge[]> {
    const a = await this.application(domain, app, { includeCartridges: true });
    if (Array.isArray(a.cartridges)) return [...a.cartridges];
    return (
      (await this.follow<Cartridge[]>(this.link(a.links, "LIST_CARTRIDGES", `application ${app}`))).data ?? []
    );
  }

  async addCartridge(domain: string, app: string, cartridge: string): Promise<Result<Cartridge>> {
    const a = await this.application(domain, app);
    const link = this.link(a.links, "ADD_CARTRIDGE", `application ${app}`);
    return this.result(await this.follow<Cartridge>(link, { body: { name: cartridge } }));
  }

  async removeCartridge(domain: string, app: string, cartridge: string): Promise<Result<unknown>> {
    const c = (await this.applicationCartridges(domain, app)).find((x) => x.name === cartridge);
    if (c === undefined)
      throw new NotFoundError(
        `application ${app} in ${domain} has no cartridge ${JSON.stringify(cartridge)}`,
      );
    return this.result(await this.follow(this.link(c.links, "DELETE", `cartridge ${cartridge}`)));
  }

  // --- environment variables

  async listEnv(domain: string, app: string): Promise<EnvironmentVariable[]> {
    return this.listEnvOf(await this.application(domain, app));
  }

  /** listEnv of an application already fetched (its links): one request instead of two. */
  async listEnvOf(a: Application): Promise<EnvironmentVariable[]> {
    const link = this.link(a.links, "LIST_ENVIRONMENT_VARIABLES", `application ${a.name}`);
    return ((await this.follow<EnvironmentVariable[]>(link)).data ?? []).map((v) => ({
      name: v.name,
      value: v.value,
    }));
  }

  /** Sets (with a value) or unsets (without) variables in one PATCH; returns the variables after it. */
  async changeEnv(
    domain: string,
    app: string,
    changes: readonly { name: string; value?: string }[],
  ): Promise<Result<EnvironmentVariable[]>> {
    const a = await this.application(domain, app);
    const link = this.link(a.links, "SET_UNSET_ENVIRONMENT_VARIABLES", `application ${app}`);
    const env = await this.follow<EnvironmentVariable[]>(link, {
      body: { environment_variables: changes.map((c) => (c.value === undefined ? { name: c.name } : c)) },
    });
    return this.result(env);
  }

  // --- admin (our extension: /broker/rest/admin/..., docs/control-plane.md)

  async listDistricts(): Promise<District[]> {
    return (await this.request<District[]>("GET", "/admin/districts")).data ?? [];
  }

  async createDistrict(req: {
    name: string;
    gearProfile: string;
    firstUid?: number;
    capacity?: number;
  }): Promise<District> {
    const body = {
      name: req.name,
      gear_profile: req.gearProfile,
      ...(req.firstUid !== undefined ? { first_uid: req.firstUid } : {}),
      ...(req.capacity !== undefined ? { capacity: req.capacity } : {}),
    };
    return (await this.request<District>("POST", "/admin/districts", { body })).data;
  }

  async district(name: string): Promise<District> {
    return (await this.request<District>("GET", `/admin/district/${escapeSegment(name)}`)).data;
  }

  async deleteDistrict(name: string): Promise<void> {
    await this.request<null>("DELETE", `/admin/district/${escapeSegment(name)}`);
  }

  async addDistrictNode(district: string, node: string): Promise<District> {
    return (
      await this.request<District>("POST", `/admin/district/${escapeSegment(district)}/nodes`, {
        body: { node },
      })
    ).data;
  }

  async removeDistrictNode(district: string, node: string): Promise<District> {
    const path = `/admin/district/${escapeSegment(district)}/node/${escapeSegment(node)}`;
    return (await this.request<District>("DELETE", path)).data;
  }

  async setDistrictNodeActive(district: string, node: string, active: boolean): Promise<District> {
    const path = `/admin/district/${escapeSegment(district)}/node/${escapeSegment(node)}/events`;
    return (
      await this.request<District>("POST", path, { body: { event: active ? "activate" : "deactivate" } })
    ).data;
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (await this.request<NodeRecord[]>("GET", "/admin/nodes")).data ?? [];
  }

  async node(name: string): Promise<NodeRecord> {
    return (await this.request<NodeRecord>("GET", `/admin/node/${escapeSegment(name)}`)).data;
  }

  /** What the node really has, asked over the bus by the broker. */
  async nodeGears(name: string): Promise<NodeGears> {
    const d = (await this.request<Partial<NodeGears>>("GET", `/admin/node/${escapeSegment(name)}/gears`))
      .data;
    return {
      gears: d?.gears ?? [],
      frontends: (d?.frontends ?? []).filter((f) => f && typeof f === "object"),
    };
  }

  /** The broker's gear records. */
  async gearRecords(): Promise<GearRecord[]> {
    return (await this.request<GearRecord[]>("GET", "/admin/gears")).data ?? [];
  }
}

/** A domain as 1.6+ shapes it: `name` is the namespace (≤ 1.5 brokers sent only `id`). */
function normalizeDomain(d: Domain): Domain {
  return d && typeof d.name !== "string" ? { ...d, name: d.id } : d;
}
