// An in-memory AppService for the REST layer's unit tests: just enough behaviour (users, keys, tokens,
// domains, apps, ownership) to check wire shapes, auth and error mapping. Not the real service.
import { createHash, randomBytes } from "crypto";
import { ConflictError, NotFoundError } from "../../../common/errors";
import { liveGear } from "../../../services/broker/app/live-state";
import {
  AdminOnlyError,
  ApplicationNotFoundError,
  BrokerConflictError,
  DomainNotFoundError,
  KeyNotFoundError,
  ORIGIN_CODE,
} from "../../../services/broker/app/errors";
import type {
  AppCartridgeView,
  ApplicationView,
  AppRef,
  AppService,
  AuthorizationView,
  CartridgeInfo,
  DomainView,
  EnvVar,
  KeyView,
  Principal,
  UserView,
} from "../../../services/broker/app/types";

const hex = () => randomBytes(16).toString("hex");
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

export const CATALOGUE: CartridgeInfo[] = [
  { name: "nodejs-20", displayName: "Node.js 20", type: "standalone", tags: ["web"], description: "Node.js" },
  {
    name: "postgresql-15",
    displayName: "PostgreSQL 15",
    type: "embedded",
    tags: ["database"],
    description: "PostgreSQL",
  },
];

interface FakeUser extends UserView {
  password: string;
}

export class FakeService implements AppService {
  readonly cloudDomain = "example.test";
  users: FakeUser[] = [];
  keys = new Map<string, KeyView[]>();
  tokens: (AuthorizationView & { userId: string; hash: string })[] = [];
  domains: DomainView[] = [];
  apps: ApplicationView[] = [];
  env = new Map<string, EnvVar[]>();
  calls: string[] = [];

  addUser(login: string, password: string, role: "user" | "admin" = "user"): FakeUser {
    const u: FakeUser = {
      id: hex(),
      login,
      password,
      role,
      maxGears: 10,
      maxDomains: 2,
      consumedGears: 0,
      createdAt: new Date("2026-01-01T00:00:00Z"),
    };
    this.users.push(u);
    return u;
  }

  private me(p: Principal): FakeUser {
    return this.users.find((u) => u.id === p.userId)!;
  }
  private admin(p: Principal) {
    if (p.role !== "admin") throw new AdminOnlyError();
  }

  async authenticateBasic(login: string, password: string): Promise<Principal | null> {
    const u = this.users.find((x) => x.login === login && x.password === password);
    return u ? { userId: u.id, login: u.login, role: u.role } : null;
  }
  async authenticateToken(token: string): Promise<Principal | null> {
    const t = this.tokens.find((x) => x.hash === sha(token));
    const u = t && this.users.find((x) => x.id === t.userId);
    return u && t
      ? { userId: u.id, login: u.login, role: u.role, authorizationId: t.id, scopes: t.scopes }
      : null;
  }
  async health() {
    return { ok: true, checks: { database: { ok: true, detail: "fake" } } };
  }
  async catalogue() {
    return CATALOGUE;
  }
  async getUser(p: Principal) {
    return this.me(p);
  }
  async listKeys(p: Principal) {
    return this.keys.get(p.userId) ?? [];
  }
  async addKey(p: Principal, key: KeyView) {
    const list = this.keys.get(p.userId) ?? [];
    if (list.some((k) => k.name === key.name))
      throw new BrokerConflictError(`SSH key '${key.name}' exists`, ORIGIN_CODE.KEY_NAME_TAKEN, "name");
    list.push(key);
    this.keys.set(p.userId, list);
    return key;
  }
  async getKey(p: Principal, name: string) {
    const k = (this.keys.get(p.userId) ?? []).find((x) => x.name === name);
    if (!k) throw new KeyNotFoundError(name);
    return k;
  }
  async updateKey(p: Principal, name: string, key: { type: string; content: string }) {
    await this.getKey(p, name);
    await this.removeKey(p, name);
    return this.addKey(p, { name, ...key });
  }
  async removeKey(p: Principal, name: string) {
    this.keys.set(
      p.userId,
      (this.keys.get(p.userId) ?? []).filter((k) => k.name !== name),
    );
  }
  async listAuthorizations(p: Principal) {
    return this.tokens.filter((t) => t.userId === p.userId);
  }
  async addAuthorization(p: Principal, req: { scope: string; note: string; expiresIn?: number }) {
    const token = randomBytes(32).toString("base64url");
    const a = {
      id: hex(),
      note: req.note,
      scopes: [req.scope],
      createdAt: new Date(),
      expiresIn: req.expiresIn ?? 86400,
      userId: p.userId,
      hash: sha(token),
    };
    this.tokens.push(a);
    return { ...a, token };
  }
  async getAuthorization(p: Principal, id: string) {
    const t = this.tokens.find((x) => x.id === id && x.userId === p.userId);
    if (!t) throw new NotFoundError(`authorization ${id} not found`);
    return t;
  }
  async removeAuthorization(p: Principal, id: string) {
    await this.getAuthorization(p, id);
    this.tokens = this.tokens.filter((t) => t.id !== id);
  }
  async removeAllAuthorizations(p: Principal) {
    this.tokens = this.tokens.filter((t) => t.userId !== p.userId);
  }
  async listDomains(p: Principal) {
    return this.domains.filter((d) => d.ownerId === p.userId);
  }
  async addDomain(p: Principal, name: string) {
    this.calls.push(`addDomain ${name}`);
    if (this.domains.some((d) => d.name === name))
      throw new BrokerConflictError(
        `Namespace '${name}' is already in use`,
        ORIGIN_CODE.NAMESPACE_TAKEN,
        "id",
      );
    const d: DomainView = {
      id: hex(),
      name,
      ownerId: p.userId,
      ownerLogin: p.login,
      createdAt: new Date("2026-01-02T00:00:00Z"),
      allowedGearSizes: ["small"],
    };
    this.domains.push(d);
    return d;
  }
  async getDomain(p: Principal, name: string) {
    const d = this.domains.find((x) => x.name === name && x.ownerId === p.userId);
    if (!d) throw new DomainNotFoundError(name);
    return d;
  }
  async removeDomain(p: Principal, name: string, force: boolean) {
    const d = await this.getDomain(p, name);
    if (!force && this.apps.some((a) => a.domain === d.name))
      throw new ConflictError("domain has applications");
    this.apps = this.apps.filter((a) => a.domain !== d.name);
    this.domains = this.domains.filter((x) => x !== d);
  }
  async listApplications(p: Principal, domain?: string) {
    const mine = (await this.listDomains(p)).map((d) => d.name);
    if (domain !== undefined) await this.getDomain(p, domain);
    return this.apps.filter((a) => mine.includes(a.domain) && (domain === undefined || a.domain === domain));
  }
  async addApplication(
    p: Principal,
    domain: string,
    req: { name: string; cartridges: readonly string[]; gearProfile?: string },
  ) {
    this.calls.push(`addApplication ${domain}/${req.name}`);
    await this.getDomain(p, domain);
    const cartridges: AppCartridgeView[] = req.cartridges.map((n) => {
      const c = CATALOGUE.find((x) => x.name === n)!;
      return { ...c, properties: [], status: "started" };
    });
    const id = hex();
    const app: ApplicationView = {
      id,
      name: req.name,
      domain,
      createdAt: new Date("2026-01-03T00:00:00Z"),
      gearProfile: req.gearProfile ?? "small",
      fqdn: `${req.name}-${domain}.${this.cloudDomain}`,
      cartridges,
      gears: [
        {
          uuid: id,
          uid: 1000,
          node: "node1",
          state: "started",
          sshHost: "node1.example.test",
          sshPort: 2222,
        },
      ],
      state: "started",
    };
    this.apps.push(app);
    return { value: app, messages: [{ severity: "result" as const, text: "cartridge said hello" }] };
  }
  async getApplication(p: Principal, ref: AppRef) {
    const mine = (await this.listDomains(p)).map((d) => d.name);
    const a = this.apps.find((x) =>
      "id" in ref ? x.id === ref.id : x.domain === ref.domain && x.name === ref.name,
    );
    if (!a || !mine.includes(a.domain)) throw new ApplicationNotFoundError("id" in ref ? ref.id : ref.name);
    return a;
  }
  async removeApplication(p: Principal, ref: AppRef) {
    const a = await this.getApplication(p, ref);
    this.apps = this.apps.filter((x) => x !== a);
  }
  async liveState(p: Principal, ref: AppRef) {
    const a = await this.getApplication(p, ref);
    const gears = a.gears.map((g) =>
      liveGear(
        g,
        {
          phase: "created",
          spec: { profile: a.gearProfile },
          selinux: { label: "s0:c0,c1" },
          cgroup: { values: { "memory.limit_in_bytes": "536870912" } },
          cartridges: a.cartridges.map((c) => ({
            name: c.name,
            version: null,
            phase: "installed",
            desired: "started",
            status: "started",
          })),
          drift: [],
        },
        { hostnames: [a.fqdn] },
      ),
    );
    return { id: a.id, name: a.name, domain: a.domain, state: a.state, gearProfile: a.gearProfile, gears };
  }
  async repairApplication(p: Principal, ref: AppRef) {
    this.calls.push("repair");
    return { value: await this.liveState(p, ref), messages: [] };
  }
  async applicationEvent(p: Principal, ref: AppRef, event: string) {
    this.calls.push(`event ${event}`);
    return { value: await this.getApplication(p, ref), messages: [] };
  }
  async addCartridge(p: Principal, ref: AppRef, name: string) {
    const a = await this.getApplication(p, ref);
    const c = { ...CATALOGUE.find((x) => x.name === name)!, properties: [], status: "started" };
    (a.cartridges as AppCartridgeView[]).push(c);
    return { value: c, messages: [] };
  }
  async removeCartridge(p: Principal, ref: AppRef, name: string) {
    const a = await this.getApplication(p, ref);
    const list = a.cartridges as AppCartridgeView[];
    list.splice(
      list.findIndex((c) => c.name === name),
      1,
    );
    return { value: a, messages: [] };
  }
  async cartridgeEvent(p: Principal, ref: AppRef, name: string) {
    const a = await this.getApplication(p, ref);
    return { value: a.cartridges.find((c) => c.name === name)!, messages: [] };
  }
  async listEnv(p: Principal, ref: AppRef) {
    return this.env.get((await this.getApplication(p, ref)).id) ?? [];
  }
  async setEnv(p: Principal, ref: AppRef, changes: readonly { name: string; value?: string }[]) {
    const a = await this.getApplication(p, ref);
    let list = this.env.get(a.id) ?? [];
    for (const c of changes) {
      list = list.filter((v) => v.name !== c.name);
      if (c.value !== undefined) list.push({ name: c.name, value: c.value });
    }
    this.env.set(a.id, list);
    return list;
  }
  async listDistricts(p: Principal) {
    this.admin(p);
    return [];
  }
  async createDistrict(
    p: Principal,
    req: { name: string; gearProfile: string; firstUid?: number; capacity?: number },
  ) {
    this.admin(p);
    return {
      name: req.name,
      uuid: hex(),
      gearProfile: req.gearProfile,
      firstUid: req.firstUid ?? 1000,
      maxUid: (req.firstUid ?? 1000) + (req.capacity ?? 6000) - 1,
      maxCapacity: req.capacity ?? 6000,
      availableCapacity: req.capacity ?? 6000,
      nodes: [],
      createdAt: new Date(),
    };
  }
  async getDistrict(p: Principal, name: string): Promise<never> {
    this.admin(p);
    throw new NotFoundError(`district ${name} not found`);
  }
  addDistrictNode = this.getDistrict;
  deleteDistrict = this.getDistrict;
  removeDistrictNode = this.getDistrict;
  setDistrictNodeActive = this.getDistrict;
  changeDistrictCapacity = this.getDistrict;
  async listNodes(p: Principal) {
    this.admin(p);
    return [];
  }
  getNode = this.getDistrict;
  async nodeGears(p: Principal) {
    this.admin(p);
    return { gears: [], frontends: [] };
  }
  async listGearRecords(p: Principal) {
    this.admin(p);
    return [];
  }
  async listUsers(p: Principal) {
    this.admin(p);
    return this.users;
  }
  async createUser(p: Principal, req: { login: string; password: string; role?: "user" | "admin" }) {
    this.admin(p);
    return this.addUser(req.login, req.password, req.role);
  }
}
