// The BrokerDomain resource's decisions, pure: the namespace against the broker's own schema
// (WIRE_SCHEMAS.addDomain, common/broker-wire.ts); a new name is another domain.

import { createAjv } from "../../common/ajv-errors";
import { WIRE_SCHEMAS } from "../../common/broker-wire";
import type { BrokerConnection, CheckFailure } from "../application/model";
import { UNKNOWN } from "../application/model";

export interface BrokerDomainInputs {
  readonly connection: BrokerConnection;
  readonly name: string;
}

let validator: ReturnType<ReturnType<typeof createAjv>["compile"]> | null = null;

export function checkBrokerDomain(news: Partial<BrokerDomainInputs>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const c = news.connection as Partial<BrokerConnection> | string | undefined;
  if (c !== UNKNOWN && (typeof c !== "object" || c === null || typeof c.server !== "string" || !c.server))
    failures.push({ property: "connection.server", reason: "the broker's URL is required" });
  if (news.name === UNKNOWN) return failures;
  validator ??= createAjv({ strict: false }).compile(WIRE_SCHEMAS.addDomain as object);
  if (!validator({ name: news.name }))
    failures.push({
      property: "name",
      reason: `${JSON.stringify(news.name)} is not a namespace (the broker's rule ${(WIRE_SCHEMAS.addDomain.properties.name as { pattern: string }).pattern})`,
    });
  return failures;
}

export function diffBrokerDomain(olds: Partial<BrokerDomainInputs>, news: BrokerDomainInputs) {
  const replaces = olds.name !== news.name ? ["name"] : [];
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
}
