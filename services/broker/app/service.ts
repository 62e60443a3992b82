// The application service: users, keys, tokens, domains, applications and their cartridges, env vars and
// events, and the admin API, over the store (services/broker/store), the node bus and DNS. Multi-step changes
// (create, delete) are pending-operation chains (the store's OpEngine): reserve a UID on the placed node → gear.create →
// cartridge.install per cartridge → the user's SSH keys → check the frontend route → DNS record, each with its
// undo, so a failure anywhere rolls back in reverse and any broker can finish a chain after a crash.
//
// BrokerService is the one entry the REST layer and main.ts use; each section lives in its own module, taking
// the shared ServiceContext (context.ts): auth.ts, account.ts, domains.ts, applications.ts, chains.ts (the step
// tables and place()), admin.ts.

import { OpEngine } from "../store";
import type { Db } from "../store";
import * as account from "./account";
import * as admin from "./admin";
import * as apps from "./applications";
import * as auth from "./auth";
import { stepsFor } from "./chains";
import type { ServiceContext } from "./context";
import * as domain from "./domains";
import * as live from "./live-state";
import type { DnsPort, NodeCaller, ServiceConfig, ServiceLog } from "./ports";
import type {
  AppCartridgeView,
  ApplicationLiveView,
  AppEvent,
  ApplicationView,
  AppRef,
  AppService,
  CartridgeEvent,
  EnvChange,
  EnvVar,
  GearRecordView,
  HealthReport,
  KeyView,
  NewApplication,
  NewDistrict,
  NewUser,
  Principal,
  UserView,
  WithMessages,
} from "./types";

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

export class BrokerService implements AppService {
  readonly cloudDomain: string;
  readonly chains: OpEngine;
  private readonly ctx: ServiceContext;

  constructor(deps: ServiceDeps) {
    this.cloudDomain = deps.config.cloudDomain;
    this.chains = new OpEngine(deps.db, {
      owner: deps.config.brokerId,
      leaseMs: deps.leaseMs ?? LEASE_MS,
      steps: (kind) => stepsFor(this.ctx, kind),
      log: (o, m) => deps.log.warn(o, m),
    });
    this.ctx = {
      db: deps.db,
      bus: deps.bus,
      dns: deps.dns,
      cfg: deps.config,
      log: deps.log,
      cloudDomain: this.cloudDomain,
      chains: this.chains,
    };
  }

  // ---------------------------------------------------------------------------- auth (auth.ts)

  authenticateBasic(login: string, password: string): Promise<Principal | null> {
    return auth.authenticateBasic(this.ctx, login, password);
  }

  authenticateToken(token: string): Promise<Principal | null> {
    return auth.authenticateToken(this.ctx, token);
  }

  health(): Promise<HealthReport> {
    return auth.health(this.ctx);
  }

  catalogue() {
    return apps.catalogue(this.ctx);
  }

  // ---------------------------------------------------------------------------- user, keys, authorizations (account.ts)

  getUser(p: Principal): Promise<UserView> {
    return account.getUser(this.ctx, p);
  }

  listKeys(p: Principal): Promise<KeyView[]> {
    return account.listKeys(this.ctx, p);
  }

  addKey(p: Principal, key: KeyView): Promise<KeyView> {
    return account.addKey(this.ctx, p, key);
  }

  getKey(p: Principal, name: string): Promise<KeyView> {
    return account.getKey(this.ctx, p, name);
  }

  updateKey(p: Principal, name: string, key: { type: string; content: string }): Promise<KeyView> {
    return account.updateKey(this.ctx, p, name, key);
  }

  removeKey(p: Principal, name: string): Promise<void> {
    return account.removeKey(this.ctx, p, name);
  }

  listAuthorizations(p: Principal) {
    return account.listAuthorizations(this.ctx, p);
  }

  addAuthorization(p: Principal, req: { scope: string; note: string; expiresIn?: number }) {
    return account.addAuthorization(this.ctx, p, req);
  }

  getAuthorization(p: Principal, id: string) {
    return account.getAuthorization(this.ctx, p, id);
  }

  removeAuthorization(p: Principal, id: string) {
    return account.removeAuthorization(this.ctx, p, id);
  }

  removeAllAuthorizations(p: Principal) {
    return account.removeAllAuthorizations(this.ctx, p);
  }

  // ---------------------------------------------------------------------------- domains (domains.ts)

  listDomains(p: Principal) {
    return domain.listDomains(this.ctx, p);
  }

  addDomain(p: Principal, name: string) {
    return domain.addDomain(this.ctx, p, name);
  }

  getDomain(p: Principal, name: string) {
    return domain.getDomain(this.ctx, p, name);
  }

  removeDomain(p: Principal, name: string, force: boolean) {
    return domain.removeDomain(this.ctx, p, name, force);
  }

  // ---------------------------------------------------------------------------- applications (applications.ts)

  listApplications(p: Principal, domain?: string) {
    return apps.listApplications(this.ctx, p, domain);
  }

  getApplication(p: Principal, ref: AppRef) {
    return apps.getApplication(this.ctx, p, ref);
  }

  addApplication(
    p: Principal,
    namespace: string,
    req: NewApplication,
  ): Promise<WithMessages<ApplicationView>> {
    return apps.addApplication(this.ctx, p, namespace, req);
  }

  removeApplication(p: Principal, ref: AppRef) {
    return apps.removeApplication(this.ctx, p, ref);
  }

  applicationEvent(p: Principal, ref: AppRef, event: AppEvent): Promise<WithMessages<ApplicationView>> {
    return apps.applicationEvent(this.ctx, p, ref, event);
  }

  liveState(p: Principal, ref: AppRef): Promise<ApplicationLiveView> {
    return live.liveState(this.ctx, p, ref);
  }

  repairApplication(p: Principal, ref: AppRef): Promise<WithMessages<ApplicationLiveView>> {
    return live.repairApplication(this.ctx, p, ref);
  }

  addCartridge(p: Principal, ref: AppRef, name: string): Promise<WithMessages<AppCartridgeView>> {
    return apps.addCartridge(this.ctx, p, ref, name);
  }

  removeCartridge(p: Principal, ref: AppRef, name: string): Promise<WithMessages<ApplicationView>> {
    return apps.removeCartridge(this.ctx, p, ref, name);
  }

  cartridgeEvent(
    p: Principal,
    ref: AppRef,
    name: string,
    event: CartridgeEvent,
  ): Promise<WithMessages<AppCartridgeView>> {
    return apps.cartridgeEvent(this.ctx, p, ref, name, event);
  }

  listEnv(p: Principal, ref: AppRef): Promise<EnvVar[]> {
    return apps.listEnv(this.ctx, p, ref);
  }

  setEnv(p: Principal, ref: AppRef, changes: readonly EnvChange[]): Promise<EnvVar[]> {
    return apps.setEnv(this.ctx, p, ref, changes);
  }

  // ---------------------------------------------------------------------------- admin (admin.ts)

  listDistricts(p: Principal) {
    return admin.listDistricts(this.ctx, p);
  }

  createDistrict(p: Principal, req: NewDistrict) {
    return admin.createDistrict(this.ctx, p, req);
  }

  getDistrict(p: Principal, name: string) {
    return admin.getDistrict(this.ctx, p, name);
  }

  deleteDistrict(p: Principal, name: string) {
    return admin.deleteDistrict(this.ctx, p, name);
  }

  addDistrictNode(p: Principal, district: string, node: string) {
    return admin.addDistrictNode(this.ctx, p, district, node);
  }

  removeDistrictNode(p: Principal, district: string, node: string) {
    return admin.removeDistrictNode(this.ctx, p, district, node);
  }

  setDistrictNodeActive(p: Principal, district: string, node: string, active: boolean) {
    return admin.setDistrictNodeActive(this.ctx, p, district, node, active);
  }

  changeDistrictCapacity(p: Principal, district: string, change: number) {
    return admin.changeDistrictCapacity(this.ctx, p, district, change);
  }

  listNodes(p: Principal) {
    return admin.listNodes(this.ctx, p);
  }

  getNode(p: Principal, name: string) {
    return admin.getNode(this.ctx, p, name);
  }

  nodeGears(p: Principal, name: string) {
    return admin.nodeGears(this.ctx, p, name);
  }

  listGearRecords(p: Principal): Promise<GearRecordView[]> {
    return admin.listGearRecords(this.ctx, p);
  }

  listUsers(p: Principal) {
    return admin.listUsers(this.ctx, p);
  }

  createUser(p: Principal, req: NewUser) {
    return admin.createUser(this.ctx, p, req);
  }
}
