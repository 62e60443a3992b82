// Domains (namespaces): each user's own, within the user's domain limit; deleting one with force deletes its
// applications first.

import type { Domain } from "../model/types";
import { applications, domains } from "../store";
import { userRow } from "./account";
import { deleteApp } from "./chains";
import type { ServiceContext } from "./context";
import { BrokerConflictError, DomainNotFoundError, LimitError, ORIGIN_CODE } from "./errors";
import type { DomainView, Principal } from "./types";

function domainView(ctx: ServiceContext, d: Domain, ownerLogin: string): DomainView {
  return {
    id: d.id,
    name: d.namespace,
    ownerId: d.ownerId,
    ownerLogin,
    createdAt: d.createdAt,
    allowedGearSizes: [ctx.cfg.defaultProfile],
  };
}

/** The caller's domain of that namespace; anyone else's answers not found (127), as origin's did. */
export async function ownDomain(ctx: ServiceContext, p: Principal, namespace: string): Promise<Domain> {
  const d = /^[a-z0-9]{1,16}$/i.test(namespace) ? await domains.getDomain(ctx.db, namespace, p.userId) : null;
  if (!d) throw new DomainNotFoundError(namespace);
  return d;
}

export async function listDomains(ctx: ServiceContext, p: Principal) {
  return (await domains.listDomains(ctx.db, p.userId)).map((d) => domainView(ctx, d, p.login));
}

export async function addDomain(ctx: ServiceContext, p: Principal, name: string) {
  const u = await userRow(ctx, p);
  const mine = await domains.listDomains(ctx.db, p.userId);
  if (mine.length >= u.maxDomains)
    throw new LimitError(`you may have at most ${u.maxDomains} domain(s)`, ORIGIN_CODE.NAMESPACE_TAKEN, "id");
  try {
    return domainView(
      ctx,
      await domains.createDomain(ctx.db, { namespace: name, ownerId: p.userId }),
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

export async function getDomain(ctx: ServiceContext, p: Principal, name: string) {
  return domainView(ctx, await ownDomain(ctx, p, name), p.login);
}

export async function removeDomain(ctx: ServiceContext, p: Principal, name: string, force: boolean) {
  const d = await ownDomain(ctx, p, name);
  const apps = await applications.listApplications(ctx.db, d.id);
  if (apps.length && !force)
    throw new BrokerConflictError(
      `Domain '${name}' contains applications. Delete applications first or set force to true.`,
      ORIGIN_CODE.DOMAIN_NOT_EMPTY,
    );
  for (const a of apps) await deleteApp(ctx, a, d);
  await domains.deleteDomain(ctx.db, d.id);
}
