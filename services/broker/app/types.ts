// The application service's interface: what the REST layer (services/broker/rest/) may ask of the broker.
// These are domain views, not wire shapes: rest/represent.ts turns them into OpenShift v1.7 representations.
// The implementation (service.ts) runs over the store, the NodeBus and the DnsUpdater; unit tests of the REST
// layer use a fake.

export type Role = "user" | "admin";

/** Who is calling: resolved from Basic credentials or a bearer token. */
export interface Principal {
  readonly userId: string;
  readonly login: string;
  readonly role: Role;
  /** set when authenticated by a token */
  readonly authorizationId?: string;
  /** the token's scopes (session, read, userinfo); absent for a password login (everything) */
  readonly scopes?: readonly string[];
}

export interface UserView {
  readonly id: string;
  readonly login: string;
  readonly role: Role;
  readonly maxGears: number;
  readonly maxDomains: number;
  readonly consumedGears: number;
  readonly createdAt: Date;
}

export interface KeyView {
  readonly name: string;
  /** ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256 ... */
  readonly type: string;
  /** the base64 body only */
  readonly content: string;
}

export interface AuthorizationView {
  readonly id: string;
  readonly note: string;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  /** lifetime in seconds from createdAt */
  readonly expiresIn: number;
  /** the token itself: only in the reply that created it (only its hash is stored) */
  readonly token?: string;
}

export interface DomainView {
  readonly id: string;
  /** the namespace */
  readonly name: string;
  readonly ownerId: string;
  readonly ownerLogin: string;
  readonly createdAt: Date;
  readonly allowedGearSizes: readonly string[];
}

/** A cartridge of the catalogue; `name` is the wire name `<name>-<version>` (nodejs-20). */
export interface CartridgeInfo {
  readonly name: string;
  readonly displayName: string;
  readonly type: "standalone" | "embedded";
  readonly tags: readonly string[];
  readonly description: string;
}

export interface CartridgeProperty {
  readonly name: string;
  readonly value: string;
  /** "cart_data" for connection info (rhc shows connection_url) */
  readonly type: string;
}

export interface AppCartridgeView extends CartridgeInfo {
  readonly properties: readonly CartridgeProperty[];
  readonly status: string | null;
}

export interface GearView {
  readonly uuid: string;
  readonly uid: number;
  readonly node: string;
  readonly state: string;
  /** where git/ssh reach the gear: the node's public hostname and its sshd port */
  readonly sshHost: string;
  readonly sshPort: number;
}

export interface ApplicationView {
  /** 32 hex: the application's uuid */
  readonly id: string;
  readonly name: string;
  /** the namespace */
  readonly domain: string;
  readonly createdAt: Date;
  readonly gearProfile: string;
  /** `<app>-<namespace>.<cloud domain>` */
  readonly fqdn: string;
  readonly cartridges: readonly AppCartridgeView[];
  readonly gears: readonly GearView[];
  readonly state: string;
}

/** One gear as its node reports it (live-state.ts): what a reconciling client compares with its spec. */
export interface GearLiveView {
  readonly uuid: string;
  readonly uid: number;
  readonly node: string;
  /** false: the node has no such gear, or could not be asked (`error`) */
  readonly present: boolean;
  readonly error: string | null;
  /** the node's marker phase (`created` when whole) */
  readonly phase: string | null;
  readonly profile: string | null;
  /** the gear's SELinux MCS label */
  readonly mcsLabel: string | null;
  /** the cgroup values the node read back (file name → value) */
  readonly cgroup: Readonly<Record<string, string | null>>;
  /** what differs from the gear's spec, as the node computes it */
  readonly drift: readonly { readonly field: string; readonly expected: string; readonly actual: string }[];
  /** `<name>-<version>`, `bin/control status` (started, stopped, unknown), what the last control asked */
  readonly cartridges: readonly {
    readonly name: string;
    readonly status: string;
    readonly desired: string | null;
  }[];
  /** the node's frontend route, null when there is none */
  readonly route: { readonly hostnames: readonly string[]; readonly idle: boolean } | null;
}

export interface ApplicationLiveView {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
  /** the broker's record: started, stopped ... */
  readonly state: string;
  readonly gearProfile: string;
  readonly gears: readonly GearLiveView[];
}

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface Message {
  readonly severity: "info" | "warning" | "result" | "debug" | "error";
  readonly text: string;
  readonly field?: string | null;
}

/** A result with what the cartridges said (shown to the user by rhc, e.g. generated DB passwords). */
export interface WithMessages<T> {
  readonly value: T;
  readonly messages: readonly Message[];
}

export type AppRef = { readonly id: string } | { readonly domain: string; readonly name: string };

export type AppEvent = "start" | "stop" | "force-stop" | "restart" | "reload" | "tidy";
export type CartridgeEvent = "start" | "stop" | "restart" | "reload";

export interface NewApplication {
  readonly name: string;
  readonly cartridges: readonly string[];
  readonly environmentVariables: readonly EnvVar[];
  readonly gearProfile?: string;
}

export interface EnvChange {
  readonly name: string;
  /** absent = unset */
  readonly value?: string;
}

// Admin views

export interface DistrictView {
  readonly name: string;
  readonly uuid: string;
  readonly gearProfile: string;
  readonly firstUid: number;
  readonly maxUid: number;
  readonly maxCapacity: number;
  readonly availableCapacity: number;
  readonly nodes: readonly { readonly name: string; readonly active: boolean }[];
  readonly createdAt: Date;
}

export interface NodeView {
  readonly name: string;
  readonly district: string | null;
  readonly active: boolean | null;
  readonly responsive: boolean;
  readonly lastSeen: Date | null;
  readonly profile: string | null;
  readonly activeGears: number | null;
  readonly maxActiveGears: number | null;
  readonly publicHostname: string | null;
  readonly cartridges: readonly string[];
}

export interface GearRecordView {
  readonly uuid: string;
  readonly uid: number;
  readonly node: string;
  readonly district: string;
  readonly application: string;
  readonly applicationId: string;
  readonly domain: string;
  readonly fqdn: string;
  readonly cartridges: readonly string[];
  readonly state: string;
}

export interface NewDistrict {
  readonly name: string;
  readonly gearProfile: string;
  readonly firstUid?: number;
  readonly capacity?: number;
}

export interface NewUser {
  readonly login: string;
  readonly password: string;
  readonly role?: Role;
  readonly maxGears?: number;
  readonly maxDomains?: number;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail: string }>>;
}

/** Everything the REST layer asks of the broker. Every call but the catalogue and health has a principal. */
export interface AppService {
  readonly cloudDomain: string;

  authenticateBasic(login: string, password: string): Promise<Principal | null>;
  authenticateToken(token: string): Promise<Principal | null>;
  health(): Promise<HealthReport>;
  catalogue(): Promise<readonly CartridgeInfo[]>;

  getUser(p: Principal): Promise<UserView>;
  listKeys(p: Principal): Promise<readonly KeyView[]>;
  addKey(p: Principal, key: KeyView): Promise<KeyView>;
  getKey(p: Principal, name: string): Promise<KeyView>;
  updateKey(p: Principal, name: string, key: { type: string; content: string }): Promise<KeyView>;
  removeKey(p: Principal, name: string): Promise<void>;

  listAuthorizations(p: Principal): Promise<readonly AuthorizationView[]>;
  addAuthorization(
    p: Principal,
    req: { scope: string; note: string; expiresIn?: number },
  ): Promise<AuthorizationView>;
  getAuthorization(p: Principal, id: string): Promise<AuthorizationView>;
  removeAuthorization(p: Principal, id: string): Promise<void>;
  removeAllAuthorizations(p: Principal): Promise<void>;

  listDomains(p: Principal): Promise<readonly DomainView[]>;
  addDomain(p: Principal, name: string): Promise<DomainView>;
  getDomain(p: Principal, name: string): Promise<DomainView>;
  removeDomain(p: Principal, name: string, force: boolean): Promise<void>;

  listApplications(p: Principal, domain?: string): Promise<readonly ApplicationView[]>;
  addApplication(p: Principal, domain: string, req: NewApplication): Promise<WithMessages<ApplicationView>>;
  getApplication(p: Principal, ref: AppRef): Promise<ApplicationView>;
  removeApplication(p: Principal, ref: AppRef): Promise<void>;
  applicationEvent(p: Principal, ref: AppRef, event: AppEvent): Promise<WithMessages<ApplicationView>>;
  /** what the nodes really have (gear.inspect, frontend.read of each gear) */
  liveState(p: Principal, ref: AppRef): Promise<ApplicationLiveView>;
  /** converge each gear to its spec and the cartridges to the application's state; the live state after */
  repairApplication(p: Principal, ref: AppRef): Promise<WithMessages<ApplicationLiveView>>;

  addCartridge(p: Principal, ref: AppRef, name: string): Promise<WithMessages<AppCartridgeView>>;
  removeCartridge(p: Principal, ref: AppRef, name: string): Promise<WithMessages<ApplicationView>>;
  cartridgeEvent(
    p: Principal,
    ref: AppRef,
    name: string,
    event: CartridgeEvent,
  ): Promise<WithMessages<AppCartridgeView>>;

  listEnv(p: Principal, ref: AppRef): Promise<readonly EnvVar[]>;
  setEnv(p: Principal, ref: AppRef, changes: readonly EnvChange[]): Promise<readonly EnvVar[]>;

  // admin (the REST layer checks the role; the service checks it again)
  listDistricts(p: Principal): Promise<readonly DistrictView[]>;
  createDistrict(p: Principal, req: NewDistrict): Promise<DistrictView>;
  getDistrict(p: Principal, name: string): Promise<DistrictView>;
  deleteDistrict(p: Principal, name: string): Promise<void>;
  addDistrictNode(p: Principal, district: string, node: string): Promise<DistrictView>;
  removeDistrictNode(p: Principal, district: string, node: string): Promise<DistrictView>;
  setDistrictNodeActive(p: Principal, district: string, node: string, active: boolean): Promise<DistrictView>;
  changeDistrictCapacity(p: Principal, district: string, change: number): Promise<DistrictView>;
  listNodes(p: Principal): Promise<readonly NodeView[]>;
  getNode(p: Principal, name: string): Promise<NodeView>;
  nodeGears(p: Principal, name: string): Promise<{ gears: unknown[]; frontends: unknown[] }>;
  listGearRecords(p: Principal): Promise<readonly GearRecordView[]>;
  listUsers(p: Principal): Promise<readonly UserView[]>;
  createUser(p: Principal, req: NewUser): Promise<UserView>;
}
