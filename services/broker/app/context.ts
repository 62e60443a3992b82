// What every part of the application service shares: the store, the node bus, DNS, the config and the log,
// and the engine that runs its pending-operation chains. BrokerService (service.ts) makes one and hands it to
// the section modules (auth, account, domains, applications, chains, admin).

import type { Db, OpEngine } from "../store";
import type { DnsPort, NodeCaller, ServiceConfig, ServiceLog } from "./ports";

export interface ServiceContext {
  readonly db: Db;
  readonly bus: NodeCaller;
  readonly dns: DnsPort;
  readonly cfg: ServiceConfig;
  readonly log: ServiceLog;
  readonly cloudDomain: string;
  readonly chains: OpEngine;
}

export function fqdn(ctx: ServiceContext, app: string, namespace: string): string {
  return `${app}-${namespace}.${ctx.cloudDomain}`.toLowerCase();
}
