// The application service: users, keys, tokens, domains, applications and their cartridges, env vars and
// events, and the admin API, over the store (services/broker/store), the node bus and DNS. Multi-step changes
// (create, delete) are pending-operation chains (the store's OpEngine): reserve a UID on the placed node → gear.create →
// cartridge.install per cartridge → the user's SSH keys → check the frontend route → DNS record, each with its
// undo, so a failure anywhere rolls back in reverse and any broker can finish a chain after a crash.

import {
  NotFoundError,
  OperationFailedError,
  reportOf,
  UnavailableError,
  ValidationError,
} from "../../../common/errors";
import type { GearProfile } from "../../../common/profiles";
import { noNodeMessage, placeGear } from "../model/placement";
import type { Json } from "../model/types";
import {
  applications,
  authorizations,
  districts,
  domains,
  gears,
  nodes,
  sshKeys,
  users,
  OpEngine,
  placementCandidates,
  type ChainResult,
  type Db,
  type Queryable,
  type StepTable,
} from "../store";
import { catalogueOf, type CatalogueEntry } from "./catalogue";
import {
  AdminOnlyError,
  ApplicationNotFoundError,
  BrokerConflictError,
  BrokerNotFoundError,
  BrokerValidationError,
  DomainNotFoundError,
  KeyNotFoundError,
  LimitError,
  NoNodeAvailableError,
  ORIGIN_CODE,
} from "./errors";
import type { DnsPort, NodeCaller, ServiceConfig, ServiceLog } from "./ports";
import type {
  AppCartridgeView,
  AppEvent,
  ApplicationView,
  AppRef,
  AppService,
  AuthorizationView,
  CartridgeEvent,
  DistrictView,
  DomainView,
  EnvChange,
  EnvVar,
  GearRecordView,
  HealthReport,
  KeyView,
  Message,
  NewApplication,
  NewDistrict,
  NewUser,
  NodeView,
  Principal,
  UserView,
  WithMessages,
} from "./types";
import type { Application, Domain, NodeRecord, User } from "../model/types";

/**
 * The error a failed chain answers with: a node that did not answer stays UnavailableError (503), as does
 * anything else of a kind the caller can act on (not found, conflict); anything else, including a
 * validation error of a value the broker made itself, is an OperationFailedError (500) naming the step.
 */
function chainError(what: string, r: ChainResult): Error {
  const rep = reportOf(r.error);
  const step = r.op.error?.step ? ` at step ${r.op.error.step}` : "";
  const undone = /undo of .* failed/.test(r.op.error?.message ?? "")
    ? "; an undo failed too (geartrain check reports it)"
    : "; everything done was undone";
  const text = `${what} failed${step}: ${rep.message}${undone}`;
  if (rep.kind === "unavailable") return new UnavailableError(text);
  if (rep.kind === "not_found" || rep.kind === "conflict")
    return Object.assign(r.error as Error, { message: text });
  return new OperationFailedError(text);
}

export interface ServiceDeps {
  readonly db: Db;
  readonly bus: NodeCaller;
  readonly dns: DnsPort;
  readonly config: ServiceConfig;
  readonly log: ServiceLog;
  /** how long a pending op's claim lasts without progress (default 60 s; heartbeats renew it) */
  readonly leaseMs?: number;
}

const LEASE_MS = 60 * 1000;

interface PlaceResult {
  [k: string]: Json;
  node: string;
  districtId: string;
  uid: number;
  publicHostname: string;
}

export class BrokerService implements AppService {
  readonly cloudDomain: string;
  readonly chains: OpEngine;
  private readonly db: Db;
  private readonly bus: NodeCaller;
  private readonly dns: DnsPort;
  private readonly cfg: ServiceConfig;
  private readonly log: ServiceLog;

  constructor(deps: ServiceDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.dns = deps.dns;
    this.cfg = deps.config;
    this.log = deps.log;
    this.cloudDomain = deps.config.cloudDomain;
    this.chains = new OpEngine(this.db, {
      owner: this.cfg.brokerId,
      leaseMs: deps.leaseMs ?? LEASE_MS,
      steps: (kind) => this.steps(kind),
      log: (o, m) => this.log.warn(o, m),
    });
  }

  // ---------------------------------------------------------------------------------------------- auth

  async authenticateBasic(login: string, password: string): Promise<Principal | null> {
    const u = await users.verifyLogin(this.db, login, password);
    return u ? { userId: u.id, login: u.login, role: u.role } : null;
  }

  async authenticateToken(token: string): Promise<Principal | null> {
    const found = await authorizations.findByToken(this.db, token);
    if (!found) return null;
    const { user, authorization } = found;
    return {
      userId: user.id,
      login: user.login,
      role: user.role,
      authorizationId: authorization.id,
      scopes: authorization.scopes,
    };
  }

  async health(): Promise<HealthReport> {
    try {
      await this.db.query("SELECT 1");
      return { ok: true, checks: { database: { ok: true, detail: "answers" } } };
    } catch (err) {
      return { ok: false, checks: { database: { ok: false, detail: (err as Error).message } } };
    }
  }

  private async catalogueEntries(): Promise<CatalogueEntry[]> {
    const list = await nodes.listNodes(this.db);
    return catalogueOf(list.map((n) => n.facts?.cartridges ?? []));
  }

  async catalogue() {
    return this.catalogueEntries();
  }

  // ---------------------------------------------------------------------------------------------- user

  private async userRow(p: Principal): Promise<User> {
    const u = await users.getUser(this.db, p.userId);
    if (!u) throw new NotFoundError(`user ${p.login} not found`);
    return u;
  }

  private async consumedGears(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM gears g JOIN applications a ON a.id = g.app_id
         JOIN domains d ON d.id = a.domain_id WHERE d.owner_id = $1`,
      [userId],
    );
    return rows[0].n;
  }

  private async userView(u: User): Promise<UserView> {
    return { ...u, consumedGears: await this.consumedGears(u.id) };
  }

  async getUser(p: Principal): Promise<UserView> {
    return this.userView(await this.userRow(p));
  }

  async listKeys(p: Principal): Promise<KeyView[]> {
    return (await sshKeys.listSshKeys(this.db, p.userId)).map((k) => ({
      name: k.name,
      type: k.type,
      content: k.content,
    }));
  }

  /** The gears of every application of the user, with their node. */
  private async userGears(userId: string): Promise<{ id: string; node: string }[]> {
    const { rows } = await this.db.query<{ id: string; node: string }>(
      `SELECT g.id, g.node FROM gears g JOIN applications a ON a.id = g.app_id
         JOIN domains d ON d.id = a.domain_id WHERE d.owner_id = $1 ORDER BY g.id`,
      [userId],
    );
    return rows;
  }

  /** Puts a key on (or takes it off) every gear of the user; all are tried, the first failure is thrown. */
  private async pushKey(userId: string, key: KeyView, op: "add" | "remove"): Promise<void> {
    let first: unknown = null;
    for (const g of await this.userGears(userId)) {
      try {
        if (op === "add")
          await this.bus.call(
            g.node,
            "sshkey.add",
            { uuid: g.id, key: `${key.type} ${key.content}`, name: key.name },
            {
              timeoutMs: this.cfg.nodeTimeoutMs,
            },
          );
        else
          await this.bus.call(
            g.node,
            "sshkey.remove",
            { uuid: g.id, name: key.name },
            { timeoutMs: this.cfg.nodeTimeoutMs },
          );
      } catch (err) {
        this.log.warn(
          { gear: g.id, node: g.node, key: key.name, error: (err as Error).message },
          `sshkey ${op} failed`,
        );
        first ??= err;
      }
    }
    if (first) throw first;
  }

  async addKey(p: Principal, key: KeyView): Promise<KeyView> {
    const existing = await sshKeys.getSshKey(this.db, p.userId, key.name);
    if (existing && (existing.content !== key.content || existing.type !== key.type))
      throw new BrokerConflictError(
        `SSH key with name ${key.name} already exists`,
        ORIGIN_CODE.KEY_NAME_TAKEN,
        "name",
      );
    const same = (await sshKeys.listSshKeys(this.db, p.userId)).find(
      (k) => k.content === key.content && k.name !== key.name,
    );
    if (same)
      throw new BrokerConflictError(
        `this key is already added as ${same.name}`,
        ORIGIN_CODE.KEY_CONTENT_TAKEN,
        "content",
      );
    if (!existing) await sshKeys.addSshKey(this.db, { userId: p.userId, ...key });
    await this.pushKey(p.userId, key, "add");
    return key;
  }

  async getKey(p: Principal, name: string): Promise<KeyView> {
    const k = await sshKeys.getSshKey(this.db, p.userId, name).catch(() => null);
    if (!k) throw new KeyNotFoundError(name);
    return { name: k.name, type: k.type, content: k.content };
  }

  async updateKey(p: Principal, name: string, key: { type: string; content: string }): Promise<KeyView> {
    await this.pushKey(p.userId, await this.getKey(p, name), "remove");
    const k = await sshKeys.updateSshKey(this.db, p.userId, name, key);
    const view = { name: k.name, type: k.type, content: k.content };
    await this.pushKey(p.userId, view, "add");
    return view;
  }

  async removeKey(p: Principal, name: string): Promise<void> {
    const k = await this.getKey(p, name);
    await this.pushKey(p.userId, k, "remove");
    await sshKeys.removeSshKey(this.db, p.userId, name);
  }

  private authView(a: {
    id: string;
    note: string;
    scopes: readonly string[];
    createdAt: Date;
    expiresAt: Date;
  }): AuthorizationView {
    return {
      id: a.id,
      note: a.note,
      scopes: a.scopes,
      createdAt: a.createdAt,
      expiresIn: Math.round((a.expiresAt.getTime() - a.createdAt.getTime()) / 1000),
    };
  }

  async listAuthorizations(p: Principal) {
    return (await authorizations.listAuthorizations(this.db, p.userId)).map((a) => this.authView(a));
  }

  async addAuthorization(p: Principal, req: { scope: string; note: string; expiresIn?: number }) {
    const { authorization, token } = await authorizations.createAuthorization(this.db, {
      userId: p.userId,
      scopes: [req.scope],
      note: req.note,
      ...(req.expiresIn !== undefined ? { expiresIn: req.expiresIn } : {}),
    });
    return { ...this.authView(authorization), token };
  }

  async getAuthorization(p: Principal, id: string) {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new BrokerNotFoundError(`authorization ${id} not found`);
    return this.authView(await authorizations.getAuthorization(this.db, p.userId, id));
  }

  async removeAuthorization(p: Principal, id: string) {
    if (!/^[0-9a-f]{32}$/.test(id) || !(await authorizations.deleteAuthorization(this.db, p.userId, id)))
      throw new BrokerNotFoundError(`authorization ${id} not found`);
  }

  async removeAllAuthorizations(p: Principal) {
    await authorizations.deleteAllAuthorizations(this.db, p.userId);
  }

  // ---------------------------------------------------------------------------------------------- domains

  private domainView(d: Domain, ownerLogin: string): DomainView {
    return {
      id: d.id,
      name: d.namespace,
      ownerId: d.ownerId,
      ownerLogin,
      createdAt: d.createdAt,
      allowedGearSizes: [this.cfg.defaultProfile],
    };
  }

  /** The caller's domain of that namespace; anyone else's answers not found (127), as origin's did. */
  private async ownDomain(p: Principal, namespace: string): Promise<Domain> {
    const d = /^[a-z0-9]{1,16}$/i.test(namespace)
      ? await domains.getDomain(this.db, namespace, p.userId)
      : null;
    if (!d) throw new DomainNotFoundError(namespace);
    return d;
  }

  async listDomains(p: Principal) {
    return (await domains.listDomains(this.db, p.userId)).map((d) => this.domainView(d, p.login));
  }

  async addDomain(p: Principal, name: string) {
    const u = await this.userRow(p);
    const mine = await domains.listDomains(this.db, p.userId);
    if (mine.length >= u.maxDomains)
      throw new LimitError(
        `you may have at most ${u.maxDomains} domain(s)`,
        ORIGIN_CODE.NAMESPACE_TAKEN,
        "id",
      );
    try {
      return this.domainView(
        await domains.createDomain(this.db, { namespace: name, ownerId: p.userId }),
        p.login,
      );
    } catch (err) {
      if ((err as { kind?: string }).kind === "conflict")
        throw new BrokerConflictError(
          `Namespace '${name}' is already in use. Please choose another.`,
          ORIGIN_CODE.NAMESPACE_TAKEN,
          "id",
        );
      throw err;
    }
  }

  async getDomain(p: Principal, name: string) {
    return this.domainView(await this.ownDomain(p, name), p.login);
  }

  async removeDomain(p: Principal, name: string, force: boolean) {
    const d = await this.ownDomain(p, name);
    const apps = await applications.listApplications(this.db, d.id);
    if (apps.length && !force)
      throw new BrokerConflictError(
        `Domain '${name}' contains applications. Delete applications first or set force to true.`,
        ORIGIN_CODE.DOMAIN_NOT_EMPTY,
      );
    for (const a of apps) await this.deleteApp(a, d);
    await domains.deleteDomain(this.db, d.id);
  }

  // ---------------------------------------------------------------------------------------------- applications

  private fqdn(app: string, namespace: string): string {
    return `${app}-${namespace}.${this.cloudDomain}`.toLowerCase();
  }

  private async appView(a: Application, d: Domain): Promise<ApplicationView> {
    const cat = await this.catalogueEntries();
    const carts = await applications.listCartridges(this.db, a.id);
    const gs = await gears.listGears(this.db, a.id);
    const nodeRecs = new Map<string, NodeRecord | null>();
    for (const g of gs) nodeRecs.set(g.node, await nodes.getNode(this.db, g.node));
    const cartridges: AppCartridgeView[] = carts.map((c) => {
      const name = `${c.name}-${c.version}`;
      const info = cat.find((x) => x.name === name);
      return {
        name,
        displayName: info?.displayName ?? name,
        type: c.type === "web" ? "standalone" : "embedded",
        tags: info?.tags ?? [],
        description: info?.description ?? "",
        properties: [],
        status: c.status,
      };
    });
    return {
      id: a.id,
      name: a.name,
      domain: d.namespace,
      createdAt: a.createdAt,
      gearProfile: a.profile,
      fqdn: this.fqdn(a.name, d.namespace),
      cartridges,
      gears: gs.map((g) => ({
        uuid: g.id,
        uid: g.uid,
        node: g.node,
        state: a.state,
        sshHost: nodeRecs.get(g.node)?.facts?.publicHostname ?? g.node,
        sshPort: this.cfg.sshPort,
      })),
      state: a.state,
    };
  }

  private async ownApp(p: Principal, ref: AppRef): Promise<{ a: Application; d: Domain }> {
    if ("id" in ref) {
      const a = /^[0-9a-f]{32}$/.test(ref.id) ? await applications.getApplication(this.db, ref.id) : null;
      const d = a ? await domains.getDomainById(this.db, a.domainId) : null;
      if (!a || !d || d.ownerId !== p.userId) throw new ApplicationNotFoundError(ref.id);
      return { a, d };
    }
    const d = await this.ownDomain(p, ref.domain);
    const a = /^[a-z0-9]{1,32}$/i.test(ref.name)
      ? await applications.getApplicationByName(this.db, d.id, ref.name)
      : null;
    if (!a) throw new ApplicationNotFoundError(ref.name);
    return { a, d };
  }

  async listApplications(p: Principal, domain?: string) {
    if (domain !== undefined) {
      const d = await this.ownDomain(p, domain);
      return Promise.all((await applications.listApplications(this.db, d.id)).map((a) => this.appView(a, d)));
    }
    const out: ApplicationView[] = [];
    for (const d of await domains.listDomains(this.db, p.userId))
      for (const a of await applications.listApplications(this.db, d.id)) out.push(await this.appView(a, d));
    return out;
  }

  async getApplication(p: Principal, ref: AppRef) {
    const { a, d } = await this.ownApp(p, ref);
    return this.appView(a, d);
  }

  async addApplication(
    p: Principal,
    namespace: string,
    req: NewApplication,
  ): Promise<WithMessages<ApplicationView>> {
    const d = await this.ownDomain(p, namespace);
    const cat = await this.catalogueEntries();
    const carts = req.cartridges.map((n, i) => {
      const c = cat.find((x) => x.name === n);
      if (!c)
        throw new BrokerValidationError(
          `cartridges[${i}]`,
          `no cartridge ${n} on any node; available: ${cat.map((x) => x.name).join(", ") || "none"}`,
          ORIGIN_CODE.INVALID_CARTRIDGE,
        );
      return c;
    });
    const webs = carts.filter((c) => c.type === "standalone");
    if (webs.length !== 1)
      throw new BrokerValidationError(
        "cartridges",
        webs.length === 0
          ? `an application needs one web cartridge (one of ${cat
              .filter((c) => c.type === "standalone")
              .map((c) => c.name)
              .join(", ")})`
          : "an application has exactly one web cartridge",
        ORIGIN_CODE.INVALID_CARTRIDGE,
      );
    if (new Set(carts.map((c) => c.cartridge)).size !== carts.length)
      throw new BrokerValidationError(
        "cartridges",
        "a cartridge is named twice",
        ORIGIN_CODE.INVALID_CARTRIDGE,
      );
    const profile = (req.gearProfile ?? this.cfg.defaultProfile) as GearProfile;
    const u = await this.userRow(p);
    if ((await this.consumedGears(u.id)) >= u.maxGears)
      throw new LimitError(
        `${p.login} has already reached the gear limit of ${u.maxGears}`,
        ORIGIN_CODE.GEAR_LIMIT,
      );
    if (await applications.getApplicationByName(this.db, d.id, req.name))
      throw new BrokerConflictError(
        `The supplied application name '${req.name}' already exists`,
        ORIGIN_CODE.APP_NAME_TAKEN,
        "name",
      );
    // web cartridge first (the gear's frontend follows it), then the add-ons in the order given
    const ordered = [...webs, ...carts.filter((c) => c.type !== "standalone")];
    let app: Application;
    try {
      app = await this.db.tx(async (q) => {
        const a = await applications.createApplication(q, { name: req.name, domainId: d.id, profile });
        for (const c of ordered)
          await applications.addCartridge(q, {
            appId: a.id,
            name: c.cartridge,
            version: c.version,
            type: c.type === "standalone" ? "web" : "addon",
            status: "installing",
          });
        if (req.environmentVariables.length) await applications.setEnvVars(q, a.id, req.environmentVariables);
        return a;
      });
    } catch (err) {
      if ((err as { kind?: string }).kind === "conflict")
        throw new BrokerConflictError(
          `The supplied application name '${req.name}' already exists`,
          ORIGIN_CODE.APP_NAME_TAKEN,
          "name",
        );
      throw err;
    }
    const gearId = app.id; // the head gear's uuid is the application's, as in origin
    const env: Record<string, string> = {};
    for (const v of req.environmentVariables) env[v.name] = v.value;
    const steps: { name: string; args: Json }[] = [
      { name: "record", args: { appId: app.id } },
      { name: "place", args: { appId: app.id, gearId, profile } },
      { name: "gear", args: { gearId, appId: app.id, app: app.name, namespace: d.namespace, profile, env } },
      ...ordered.map((c) => ({
        name: `cartridge:${c.name}`,
        args: { gearId, name: c.cartridge, version: c.version },
      })),
      { name: "keys", args: { gearId, userId: p.userId } },
      { name: "route", args: { gearId } },
      { name: "dns", args: { fqdn: this.fqdn(app.name, d.namespace) } },
      { name: "finish", args: { appId: app.id } },
    ];
    const r = await this.chains.start("app.create", app.id, steps);
    if (r.state !== "done") throw chainError(`creating application ${app.name}`, r);
    const messages: Message[] = [];
    for (const [name, undo] of Object.entries(r.done)) {
      if (!name.startsWith("cartridge:")) continue;
      for (const m of (undo as { messages?: { hook: string; output: string }[] })?.messages ?? [])
        if (m.output.trim()) messages.push({ severity: "result", text: m.output.trim() });
    }
    const fresh = (await applications.getApplication(this.db, app.id))!;
    return { value: await this.appView(fresh, d), messages };
  }

  private async deleteApp(a: Application, d: Domain): Promise<void> {
    if (a.state === "creating" || a.state === "deleting") {
      const { rows } = await this.db.query(
        `SELECT 1 FROM pending_ops WHERE app_id = $1 AND state IN ('pending', 'running', 'rolling_back')`,
        [a.id],
      );
      if (rows.length)
        throw new BrokerConflictError(
          `application ${a.name} is being ${a.state === "creating" ? "created" : "deleted"}; try again later`,
          1,
        );
    }
    await applications.setApplicationState(this.db, a.id, "deleting");
    const gs = await gears.listGears(this.db, a.id);
    const steps: { name: string; args: Json }[] = [
      { name: "unregister", args: { fqdn: this.fqdn(a.name, d.namespace) } },
      ...gs.flatMap((g): { name: string; args: Json }[] => [
        { name: `unroute:${g.id}`, args: { gearId: g.id, node: g.node } },
        { name: `destroy:${g.id}`, args: { gearId: g.id, node: g.node } },
        { name: `release:${g.id}`, args: { gearId: g.id, node: g.node } },
      ]),
      { name: "forget", args: { appId: a.id } },
    ];
    const r = await this.chains.start("app.delete", a.id, steps);
    if (r.state !== "done") {
      await applications.setApplicationState(this.db, a.id, "failed").catch(() => undefined);
      throw chainError(`deleting application ${a.name}`, r);
    }
  }

  async removeApplication(p: Principal, ref: AppRef) {
    const { a, d } = await this.ownApp(p, ref);
    await this.deleteApp(a, d);
  }

  private async controlAll(a: Application, action: string, order: "forward" | "reverse"): Promise<Message[]> {
    const carts = await applications.listCartridges(this.db, a.id);
    const sorted = [...carts].sort((x, y) => (x.type === y.type ? 0 : x.type === "web" ? 1 : -1)); // add-ons first
    if (order === "reverse") sorted.reverse();
    const messages: Message[] = [];
    for (const g of await gears.listGears(this.db, a.id)) {
      for (const c of sorted) {
        const res = (await this.bus.call(
          g.node,
          "cartridge.control",
          { uuid: g.id, name: c.name, action },
          {
            timeoutMs: this.cfg.cartridgeTimeoutMs,
          },
        )) as { output?: string } | null;
        if (res?.output?.trim()) messages.push({ severity: "info", text: res.output.trim() });
      }
    }
    return messages;
  }

  async applicationEvent(p: Principal, ref: AppRef, event: AppEvent): Promise<WithMessages<ApplicationView>> {
    const { a, d } = await this.ownApp(p, ref);
    if (a.state === "creating" || a.state === "deleting")
      throw new BrokerConflictError(
        `application ${a.name} is being ${a.state === "creating" ? "created" : "deleted"}`,
        1,
      );
    // force-stop is stop on our nodes (bin/control stop ends every process of the cartridge)
    const action = event === "force-stop" ? "stop" : event;
    const messages = await this.controlAll(a, action, action === "stop" ? "reverse" : "forward");
    let state = a.state;
    if (action === "stop") state = "stopped";
    if (action === "start" || action === "restart") state = "started";
    if (state !== a.state) await applications.setApplicationState(this.db, a.id, state);
    return { value: await this.appView({ ...a, state }, d), messages };
  }

  async addCartridge(p: Principal, ref: AppRef, name: string): Promise<WithMessages<AppCartridgeView>> {
    const { a, d } = await this.ownApp(p, ref);
    const cat = await this.catalogueEntries();
    const c = cat.find((x) => x.name === name);
    if (!c)
      throw new BrokerValidationError(
        "name",
        `no cartridge ${name} on any node; available: ${cat.map((x) => x.name).join(", ")}`,
        ORIGIN_CODE.INVALID_CARTRIDGE,
      );
    if (c.type === "standalone")
      throw new BrokerValidationError(
        "name",
        `${name} is a web cartridge; an application has exactly one`,
        ORIGIN_CODE.INVALID_CARTRIDGE,
      );
    const have = await applications.listCartridges(this.db, a.id);
    if (have.some((x) => x.name === c.cartridge))
      throw new BrokerConflictError(`${a.name} already has ${name}`, ORIGIN_CODE.INVALID_CARTRIDGE, "name");
    await applications.addCartridge(this.db, {
      appId: a.id,
      name: c.cartridge,
      version: c.version,
      type: "addon",
      status: "installing",
    });
    const messages: Message[] = [];
    try {
      for (const g of await gears.listGears(this.db, a.id)) {
        const res = (await this.bus.call(
          g.node,
          "cartridge.install",
          { uuid: g.id, name: c.cartridge, version: c.version },
          {
            timeoutMs: this.cfg.cartridgeTimeoutMs,
          },
        )) as { messages?: { output: string }[] } | null;
        for (const m of res?.messages ?? [])
          if (m.output.trim()) messages.push({ severity: "result", text: m.output.trim() });
      }
    } catch (err) {
      // the node undoes a failed install itself; the record goes too
      await applications.removeCartridge(this.db, a.id, c.cartridge).catch(() => undefined);
      throw err;
    }
    await applications.setCartridgeStatus(this.db, a.id, c.cartridge, "started");
    const view = await this.appView(a, d);
    return { value: view.cartridges.find((x) => x.name === name)!, messages };
  }

  async removeCartridge(p: Principal, ref: AppRef, name: string): Promise<WithMessages<ApplicationView>> {
    const { a, d } = await this.ownApp(p, ref);
    const have = await applications.listCartridges(this.db, a.id);
    const c = have.find((x) => `${x.name}-${x.version}` === name);
    if (!c) throw new BrokerNotFoundError(`Cartridge '${name}' not found in application ${a.name}`);
    if (c.type === "web")
      throw new BrokerValidationError(
        "name",
        `${name} is the web cartridge: delete the application instead`,
        ORIGIN_CODE.INVALID_CARTRIDGE,
      );
    for (const g of await gears.listGears(this.db, a.id))
      await this.bus.call(
        g.node,
        "cartridge.remove",
        { uuid: g.id, name: c.name },
        { timeoutMs: this.cfg.cartridgeTimeoutMs },
      );
    await applications.removeCartridge(this.db, a.id, c.name);
    return { value: await this.appView(a, d), messages: [] };
  }

  async cartridgeEvent(
    p: Principal,
    ref: AppRef,
    name: string,
    event: CartridgeEvent,
  ): Promise<WithMessages<AppCartridgeView>> {
    const { a, d } = await this.ownApp(p, ref);
    const c = (await applications.listCartridges(this.db, a.id)).find(
      (x) => `${x.name}-${x.version}` === name,
    );
    if (!c) throw new BrokerNotFoundError(`Cartridge '${name}' not found in application ${a.name}`);
    const messages: Message[] = [];
    for (const g of await gears.listGears(this.db, a.id)) {
      const res = (await this.bus.call(
        g.node,
        "cartridge.control",
        { uuid: g.id, name: c.name, action: event },
        {
          timeoutMs: this.cfg.cartridgeTimeoutMs,
        },
      )) as { output?: string } | null;
      if (res?.output?.trim()) messages.push({ severity: "info", text: res.output.trim() });
    }
    if (event !== "reload")
      await applications.setCartridgeStatus(this.db, a.id, c.name, event === "stop" ? "stopped" : "started");
    const view = await this.appView(a, d);
    return { value: view.cartridges.find((x) => x.name === name)!, messages };
  }

  async listEnv(p: Principal, ref: AppRef): Promise<EnvVar[]> {
    const { a } = await this.ownApp(p, ref);
    return (await applications.listEnvVars(this.db, a.id)).map((v) => ({ name: v.name, value: v.value }));
  }

  async setEnv(p: Principal, ref: AppRef, changes: readonly EnvChange[]): Promise<EnvVar[]> {
    const { a } = await this.ownApp(p, ref);
    const set = changes.filter((c) => c.value !== undefined).map((c) => ({ name: c.name, value: c.value! }));
    const unset = changes.filter((c) => c.value === undefined).map((c) => c.name);
    await this.db.tx(async (q) => {
      await applications.setEnvVars(q, a.id, set);
      if (unset.length) await applications.unsetEnvVars(q, a.id, unset);
    });
    const vars = await applications.listEnvVars(this.db, a.id);
    const env: Record<string, string> = {};
    for (const v of vars) env[v.name] = v.value;
    // the node replaces the gear's user variables with exactly these
    for (const g of await gears.listGears(this.db, a.id))
      await this.bus.call(g.node, "gear.update", { uuid: g.id, env }, { timeoutMs: this.cfg.nodeTimeoutMs });
    return vars.map((v) => ({ name: v.name, value: v.value }));
  }

  // ---------------------------------------------------------------------------------------------- chains

  private steps(kind: string): StepTable {
    if (kind === "app.create") return this.createSteps();
    if (kind === "app.delete") return this.deleteSteps();
    throw new Error(`unknown pending operation kind ${kind}`);
  }

  private call(node: string, action: string, args: Json, id: string, timeoutMs = this.cfg.nodeTimeoutMs) {
    return this.bus.call(node, action, args, { timeoutMs, id });
  }

  /** The node for a new gear: the store's candidates, narrowed to what the bus hears, by placeGear (pure). */
  private async place(
    q: Queryable,
    profile: string,
    appId: string,
  ): Promise<{ node: string; districtId: string; publicHostname: string }> {
    const { now, nodes: all } = await placementCandidates(q, { appId });
    const heard = all.filter((n) => this.bus.nodeStatus(n.identity).status === "responsive");
    const req = {
      profile: profile as GearProfile,
      now,
      silenceMs: this.cfg.silenceMs,
      random: Math.random(),
    };
    const p = placeGear(heard, req);
    if (p.node) {
      return {
        node: p.node.identity,
        districtId: p.node.districtId,
        publicHostname: p.node.publicHostname ?? p.node.identity,
      };
    }
    const silent = all.length - heard.length;
    const excluded = silent
      ? { ...p.excluded, unresponsive: (p.excluded.unresponsive ?? 0) + silent }
      : p.excluded;
    throw new NoNodeAvailableError(noNodeMessage(profile, excluded));
  }

  private createSteps(): StepTable {
    return {
      record: {
        run: async () => null,
        undo: async (c) => {
          await applications.deleteApplication(this.db, String((c.args as { appId: string }).appId));
        },
      },
      place: {
        run: async (c) => {
          const { appId, gearId, profile } = c.args as { appId: string; gearId: string; profile: string };
          const existing = await gears.getGear(this.db, gearId);
          if (existing) {
            const rec = await nodes.getNode(this.db, existing.node);
            return {
              node: existing.node,
              districtId: existing.districtId,
              uid: existing.uid,
              publicHostname: rec?.facts?.publicHostname ?? existing.node,
            };
          }
          const chosen = await this.place(this.db, profile, appId);
          const placed: PlaceResult = await this.db.tx(async (q) => {
            const uid = await districts.reserveUid(q, chosen.districtId, gearId);
            await gears.createGear(q, {
              id: gearId,
              appId,
              districtId: chosen.districtId,
              uid,
              node: chosen.node,
            });
            return { ...chosen, uid };
          });
          return placed;
        },
        undo: async (c) => {
          const { gearId } = c.args as { gearId: string };
          await this.db.tx(async (q) => {
            await gears.deleteGear(q, gearId);
            await districts.releaseUidsOf(q, gearId);
          });
        },
      },
      gear: {
        run: async (c) => {
          const a = c.args as {
            gearId: string;
            appId: string;
            app: string;
            namespace: string;
            profile: string;
            env: Record<string, string>;
          };
          const pl = c.done.place as PlaceResult;
          await this.call(
            pl.node,
            "gear.create",
            {
              uuid: a.gearId,
              uid: pl.uid,
              app: a.app,
              namespace: a.namespace,
              appUuid: a.appId,
              profile: a.profile,
              env: a.env,
            },
            c.callId(),
          );
          return { node: pl.node };
        },
        undo: async (c, undo) => {
          const pl = c.done.place as PlaceResult | undefined;
          const gearId = (c.args as { gearId: string }).gearId;
          const node = pl?.node ?? (await gears.getGear(this.db, gearId))?.node;
          if (!node) return;
          try {
            await this.call(node, "gear.destroy", { uuid: gearId }, c.callId("undo"));
          } catch (err) {
            // gear.create got no answer and neither does the destroy: the create request carried an absolute
            // expiry, so an agent that comes back does not run it late. Release the UID; a gear the node made
            // anyway (it was running the request at the deadline) is what `geartrain check` reports.
            if (undo !== null || (err as { kind?: string }).kind !== "unavailable") throw err;
            this.log.warn(
              { gear: gearId, node, error: (err as Error).message },
              "gear.destroy unanswered after an unanswered gear.create",
            );
          }
        },
      },
      cartridge: {
        run: async (c) => {
          const a = c.args as { gearId: string; name: string; version: string };
          const pl = c.done.place as PlaceResult;
          const res = (await this.call(
            pl.node,
            "cartridge.install",
            { uuid: a.gearId, name: a.name, version: a.version },
            c.callId(),
            this.cfg.cartridgeTimeoutMs,
          )) as { messages?: { hook: string; output: string }[]; routes?: { status: string } } | null;
          return {
            messages: (res?.messages ?? []).map((m) => ({ hook: m.hook, output: m.output })),
            routes: res?.routes?.status ?? null,
          };
        },
        undo: async (c) => {
          const a = c.args as { gearId: string; name: string };
          const pl = c.done.place as PlaceResult | undefined;
          if (!pl) return;
          try {
            await this.call(
              pl.node,
              "cartridge.remove",
              { uuid: a.gearId, name: a.name },
              c.callId("undo"),
              this.cfg.cartridgeTimeoutMs,
            );
          } catch (err) {
            if ((err as { kind?: string }).kind !== "not_found") throw err;
          }
        },
      },
      keys: {
        run: async (c) => {
          const { gearId, userId } = c.args as { gearId: string; userId: string };
          const pl = c.done.place as PlaceResult;
          const keys = await sshKeys.listSshKeys(this.db, userId);
          for (const [i, k] of keys.entries())
            await this.call(
              pl.node,
              "sshkey.add",
              { uuid: gearId, key: `${k.type} ${k.content}`, name: k.name },
              c.callId(`k${i}`),
            );
          return { keys: keys.length };
        },
        undo: async () => undefined, // the gear's destroy takes its keys
      },
      route: {
        run: async (c) => {
          const { gearId } = c.args as { gearId: string };
          const pl = c.done.place as PlaceResult;
          // the web cartridge's install sets the gear's route (node/cartridge/frontend.ts); check it is there
          const route = await this.call(pl.node, "frontend.read", { uuid: gearId }, c.callId());
          if (!route)
            throw new OperationFailedError(
              `node ${pl.node} has no frontend route for gear ${gearId} after the install`,
              "frontend_failed",
            );
          return { hostnames: (route as { hostnames?: Json[] }).hostnames ?? [] };
        },
        undo: async (c) => {
          const pl = c.done.place as PlaceResult | undefined;
          if (pl)
            await this.call(
              pl.node,
              "frontend.remove",
              { uuid: (c.args as { gearId: string }).gearId },
              c.callId("undo"),
            );
        },
      },
      dns: {
        run: async (c) => {
          const { fqdn } = c.args as { fqdn: string };
          const pl = c.done.place as PlaceResult;
          await this.dns.upsert([{ name: fqdn, type: "CNAME", value: pl.publicHostname, ttl: 60 }]);
          return { fqdn, value: pl.publicHostname };
        },
        undo: async (c) => {
          await this.dns.remove([{ name: (c.args as { fqdn: string }).fqdn, type: "CNAME" }]);
        },
      },
      finish: {
        run: async (c) => {
          const { appId } = c.args as { appId: string };
          await this.db.tx(async (q) => {
            await applications.setApplicationState(q, appId, "started");
            for (const x of await applications.listCartridges(q, appId))
              await applications.setCartridgeStatus(q, appId, x.name, "started");
          });
          return null;
        },
        undo: async () => undefined,
      },
    };
  }

  private deleteSteps(): StepTable {
    const noUndo = async () => undefined;
    const ignoreGone = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        if ((err as { kind?: string }).kind !== "not_found") throw err;
      }
    };
    return {
      unregister: {
        run: async (c) => {
          await this.dns.remove([{ name: (c.args as { fqdn: string }).fqdn, type: "CNAME" }]);
          return null;
        },
        undo: noUndo,
      },
      unroute: {
        run: async (c) => {
          const { gearId, node } = c.args as { gearId: string; node: string };
          await ignoreGone(this.call(node, "frontend.remove", { uuid: gearId }, c.callId()));
          return null;
        },
        undo: noUndo,
      },
      destroy: {
        run: async (c) => {
          const { gearId, node } = c.args as { gearId: string; node: string };
          await ignoreGone(
            this.call(node, "gear.destroy", { uuid: gearId }, c.callId(), this.cfg.cartridgeTimeoutMs),
          );
          return null;
        },
        undo: noUndo,
      },
      release: {
        run: async (c) => {
          const { gearId } = c.args as { gearId: string };
          await this.db.tx(async (q) => {
            await gears.deleteGear(q, gearId);
            await districts.releaseUidsOf(q, gearId);
          });
          return null;
        },
        undo: noUndo,
      },
      forget: {
        run: async (c) => {
          await applications.deleteApplication(this.db, (c.args as { appId: string }).appId);
          return null;
        },
        undo: noUndo,
      },
    };
  }

  // ---------------------------------------------------------------------------------------------- admin

  private admin(p: Principal): void {
    if (p.role !== "admin") throw new AdminOnlyError();
  }

  private async districtView(id: string): Promise<DistrictView> {
    const d = await districts.getDistrict(this.db, id);
    if (!d) throw new BrokerNotFoundError(`district ${id} not found`);
    const members = await districts.listDistrictNodes(this.db, d.id);
    return {
      name: d.name,
      uuid: d.id,
      gearProfile: d.profile,
      firstUid: d.firstUid,
      maxUid: d.firstUid + d.uidCount - 1,
      maxCapacity: d.uidCount,
      availableCapacity: d.availableUids,
      nodes: members.map((m) => ({ name: m.identity, active: m.active })),
      createdAt: d.createdAt,
    };
  }

  private async districtByName(name: string) {
    const d = /^[\w.-]{1,64}$/.test(name) ? await districts.getDistrictByName(this.db, name) : null;
    if (!d) throw new BrokerNotFoundError(`district ${name} not found`);
    return d;
  }

  async listDistricts(p: Principal) {
    this.admin(p);
    return Promise.all((await districts.listDistricts(this.db)).map((d) => this.districtView(d.id)));
  }

  async createDistrict(p: Principal, req: NewDistrict) {
    this.admin(p);
    try {
      const d = await this.db.tx((q) =>
        districts.createDistrict(q, {
          name: req.name,
          profile: req.gearProfile as GearProfile,
          ...(req.firstUid !== undefined ? { firstUid: req.firstUid } : {}),
          ...(req.capacity !== undefined ? { uidCount: req.capacity } : {}),
        }),
      );
      return this.districtView(d.id);
    } catch (err) {
      if ((err as { kind?: string }).kind === "conflict")
        throw new BrokerConflictError(`district ${req.name} exists`, 1, "name");
      throw err;
    }
  }

  async getDistrict(p: Principal, name: string) {
    this.admin(p);
    return this.districtView((await this.districtByName(name)).id);
  }

  private async memberOf(districtId: string, node: string) {
    const m = (await districts.listDistrictNodes(this.db, districtId)).find((x) => x.identity === node);
    if (!m) throw new BrokerNotFoundError(`node ${node} is not in this district`);
    return m;
  }

  async addDistrictNode(p: Principal, district: string, node: string) {
    this.admin(p);
    const d = await this.districtByName(district);
    if (!(await nodes.getNode(this.db, node)))
      throw new ValidationError("node", `node ${node} has never reported facts (is its agent running?)`);
    await this.db.tx((q) => districts.addDistrictNode(q, d.id, node));
    return this.districtView(d.id);
  }

  async removeDistrictNode(p: Principal, district: string, node: string) {
    this.admin(p);
    const d = await this.districtByName(district);
    await this.memberOf(d.id, node);
    await districts.removeDistrictNode(this.db, node);
    return this.districtView(d.id);
  }

  async setDistrictNodeActive(p: Principal, district: string, node: string, active: boolean) {
    this.admin(p);
    const d = await this.districtByName(district);
    await this.memberOf(d.id, node);
    await districts.setDistrictNodeActive(this.db, node, active);
    return this.districtView(d.id);
  }

  async changeDistrictCapacity(p: Principal, district: string, change: number) {
    this.admin(p);
    const d = await this.districtByName(district);
    await this.db.tx((q) =>
      change > 0
        ? districts.addDistrictCapacity(q, d.id, change)
        : districts.removeDistrictCapacity(q, d.id, -change),
    );
    return this.districtView(d.id);
  }

  private async nodeView(rec: NodeRecord): Promise<NodeView> {
    const member = (await districts.listDistrictNodes(this.db)).find((m) => m.identity === rec.identity);
    const d = member ? await districts.getDistrict(this.db, member.districtId) : null;
    const live = this.bus.nodeStatus(rec.identity);
    const lastSeen = rec.lastSeen;
    const recent = lastSeen !== null && Date.now() - lastSeen.getTime() <= this.cfg.silenceMs;
    const f = rec.facts;
    return {
      name: rec.identity,
      district: d?.name ?? null,
      active: member ? member.active : null,
      responsive: live.status === "responsive" || recent,
      lastSeen,
      profile: f?.profile ?? null,
      activeGears: f?.activeGears ?? null,
      maxActiveGears: f?.maxActiveGears ?? null,
      publicHostname: f?.publicHostname ?? null,
      cartridges: (f?.cartridges ?? []).map((c) => `${c.name}-${c.version}`),
    };
  }

  async listNodes(p: Principal) {
    this.admin(p);
    return Promise.all((await nodes.listNodes(this.db)).map((n) => this.nodeView(n)));
  }

  async getNode(p: Principal, name: string) {
    this.admin(p);
    const rec = /^[a-z0-9][a-z0-9._-]{0,252}$/.test(name) ? await nodes.getNode(this.db, name) : null;
    if (!rec) throw new BrokerNotFoundError(`node ${name} not found`);
    return this.nodeView(rec);
  }

  async nodeGears(p: Principal, name: string) {
    await this.getNode(p, name);
    const list = (await this.bus.call(
      name,
      "gear.list",
      {},
      { timeoutMs: this.cfg.nodeTimeoutMs },
    )) as unknown[];
    const frontends: unknown[] = [];
    for (const g of list as { uuid?: string }[]) {
      if (!g.uuid) continue;
      const f = await this.bus.call(
        name,
        "frontend.read",
        { uuid: g.uuid },
        { timeoutMs: this.cfg.nodeTimeoutMs },
      );
      if (f) frontends.push(f);
    }
    return { gears: list, frontends };
  }

  async listGearRecords(p: Principal): Promise<GearRecordView[]> {
    this.admin(p);
    const { rows } = await this.db.query<{
      id: string;
      uid: number;
      node: string;
      district: string;
      app: string;
      app_id: string;
      namespace: string;
      state: string;
    }>(
      `SELECT g.id, g.uid, g.node, di.name AS district, a.name AS app, a.id AS app_id, d.namespace, a.state
         FROM gears g JOIN applications a ON a.id = g.app_id JOIN domains d ON d.id = a.domain_id
         JOIN districts di ON di.id = g.district_id ORDER BY g.id`,
    );
    const out: GearRecordView[] = [];
    for (const r of rows) {
      const carts = await applications.listCartridges(this.db, r.app_id);
      out.push({
        uuid: r.id,
        uid: r.uid,
        node: r.node,
        district: r.district,
        application: r.app,
        applicationId: r.app_id,
        domain: r.namespace,
        fqdn: this.fqdn(r.app, r.namespace),
        cartridges: carts.map((c) => `${c.name}-${c.version}`),
        state: r.state,
      });
    }
    return out;
  }

  async listUsers(p: Principal) {
    this.admin(p);
    return Promise.all((await users.listUsers(this.db)).map((u) => this.userView(u)));
  }

  async createUser(p: Principal, req: NewUser) {
    this.admin(p);
    try {
      const u = await users.createUser(this.db, req);
      return this.userView(u);
    } catch (err) {
      if ((err as { kind?: string }).kind === "conflict")
        throw new BrokerConflictError(`user ${req.login} exists`, 1, "login");
      throw err;
    }
  }
}
