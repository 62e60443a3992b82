// The broker's connection to PostgreSQL: one pg Pool per process, transactions with retry on serialization
// failures, and the translation of PostgreSQL's constraint errors into common/errors.ts classes. The
// password is a separate value of the config (never a URL, never logged).

import { Pool, type PoolClient, type QueryResultRow } from "pg";
import { ConflictError, GeartrainError, NotFoundError, UnavailableError } from "../../../common/errors";

export interface DbConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** pool size (default 10) */
  readonly max?: number;
  /** application_name shown in pg_stat_activity (default "geartrain-broker") */
  readonly applicationName?: string;
}

/** What a repository function runs its SQL on: the pool or a transaction's client. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export class Db implements Queryable {
  readonly pool: Pool;

  constructor(config: DbConfig) {
    this.pool = new Pool({
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.user,
      password: config.password,
      max: config.max ?? 10,
      application_name: config.applicationName ?? "geartrain-broker",
      connectionTimeoutMillis: 10_000,
    });
    // an idle client's error (the server restarted) must not crash the process; the next query reconnects
    this.pool.on("error", () => undefined);
  }

  async query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw translatePgError(err);
    }
  }

  /**
   * Runs fn in one transaction (READ COMMITTED), committing when it returns and rolling back when it throws.
   * Serialization failures and deadlocks are retried (up to 5 times), so fn must only touch the database.
   */
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw translatePgError(err);
      }
      const q: Queryable = {
        query: async (text, values) => {
          try {
            return await client.query(text, values);
          } catch (err) {
            throw translatePgError(err);
          }
        },
      };
      try {
        await client.query("BEGIN");
        const result = await fn(q);
        await client.query("COMMIT");
        client.release();
        return result;
      } catch (err) {
        // a client whose ROLLBACK fails (its connection broke) is destroyed, not returned to the pool
        const broken = await client.query("ROLLBACK").then(
          () => false,
          () => true,
        );
        client.release(broken);
        if (attempt < 5 && isRetryable(err)) continue;
        throw err;
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const RETRYABLE = new Set(["40001", "40P01"]);

function isRetryable(err: unknown): boolean {
  const code = (err as { pgCode?: string; code?: string }).pgCode ?? (err as { code?: string }).code;
  return typeof code === "string" && RETRYABLE.has(code);
}

/** The PostgreSQL error's SQLSTATE, or undefined for other errors. */
export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A database error we did not foresee, kept with its SQLSTATE (never with the statement's values). */
export class DatabaseError extends GeartrainError {
  readonly pgCode?: string;
  constructor(message: string, code?: string) {
    super(message, { kind: "failed", exitCode: 1, httpStatus: 500 });
    if (code !== undefined) this.pgCode = code;
  }
  details(): Record<string, unknown> {
    return this.pgCode ? { pgCode: this.pgCode } : {};
  }
}

/**
 * PostgreSQL's errors as ours: unique violation → ConflictError, foreign key violation → NotFoundError (the
 * row referred to is gone) or ConflictError (still referred to), connection failures → UnavailableError.
 * Repositories catch the constraint names they expect and throw field-naming errors themselves first.
 */
export function translatePgError(err: unknown): Error {
  if (err instanceof GeartrainError) return err;
  const code = pgCode(err);
  const constraint = (err as { constraint?: string }).constraint;
  if (code === "23505") {
    const e = new ConflictError(`already exists (${constraint ?? "unique"})`);
    return Object.assign(e, { pgCode: code, constraint });
  }
  if (code === "23503") {
    const detail = String((err as { detail?: string }).detail ?? "");
    const e = /is still referenced/.test(detail)
      ? new ConflictError(`still in use (${constraint ?? "foreign key"})`)
      : new NotFoundError(`refers to something that does not exist (${constraint ?? "foreign key"})`);
    return Object.assign(e, { pgCode: code, constraint });
  }
  if (code === "40001" || code === "40P01") return Object.assign(err as Error, { pgCode: code });
  const sysCode = (err as { code?: string }).code;
  if (
    sysCode === "ECONNREFUSED" ||
    sysCode === "ECONNRESET" ||
    sysCode === "ETIMEDOUT" ||
    code?.startsWith("08")
  ) {
    return new UnavailableError(`the database does not answer: ${(err as Error).message}`);
  }
  if (code === "57P01" || code === "57P03")
    return new UnavailableError("the database is shutting down or starting");
  if (code === "28P01" || code === "28000")
    return new UnavailableError("the database refused the broker's login");
  if (code !== undefined) return new DatabaseError(`database error ${code}: ${(err as Error).message}`, code);
  return err instanceof Error ? err : new Error(String(err));
}

/** The constraint a translated error came from (for repositories that name the field). */
export function constraintOf(err: unknown): string | undefined {
  return (err as { constraint?: string }).constraint;
}
