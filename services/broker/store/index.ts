// The broker's store: PostgreSQL through pg, the schema as node-pg-migrate migrations (migrations/*.sql),
// one repository module per aggregate. Every repository function takes a Queryable first: the Db itself for
// one statement, or the client Db.tx hands out, so several calls commit or roll back together.
//
//   const db = await openStore(config);            // migrates, then pools
//   const user = await db.tx((q) => users.createUser(q, { login, password }));
//   const uid = await districts.reserveUid(db, districtId, gearId);
//   const engine = new OpEngine(db, { owner: brokerId, leaseMs: 30_000, steps: (kind) => TABLES[kind] });
//   await engine.start("app.create", app.id, [{ name: "reserve", args }, ...]); // and at start-up:
//   await engine.resumeAbandoned();

import { Db, type DbConfig } from "./db";
import { migrate } from "./migrate";

export { Db, DatabaseError, translatePgError, type DbConfig, type Queryable } from "./db";
export { migrate, migrationsDir, MIGRATIONS_TABLE, type MigrateOptions } from "./migrate";
export { hashPassword, verifyPassword, newId, newToken, tokenHash } from "./secrets";
export * as users from "./users";
export * as authorizations from "./authorizations";
export * as sshKeys from "./ssh-keys";
export * as domains from "./domains";
export * as applications from "./applications";
export * as gears from "./gears";
export * as districts from "./districts";
export * as nodes from "./nodes";
export * as pendingOps from "./pending-ops";
export { placementCandidates, type PlacementCandidate } from "./placement-candidates";
export { LeaseLostError } from "./pending-ops";
export {
  OpEngine,
  type ChainResult,
  type EngineOptions,
  type StepCtx,
  type StepDef,
  type StepTable,
} from "./op-engine";

/** Applies pending migrations (unless `migrate: false`) and opens the pool. */
export async function openStore(config: DbConfig, opts: { migrate?: boolean } = {}): Promise<Db> {
  if (opts.migrate !== false) await migrate(config);
  return new Db(config);
}
