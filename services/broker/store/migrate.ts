// Runs the schema migrations (migrations/*.sql, in order of their numeric prefix) with node-pg-migrate's
// programmatic runner. node-pg-migrate waits for its advisory lock, so brokers starting together migrate once;
// it records what ran in the table `pgmigrations`, so a re-run applies nothing.
//
// node-pg-migrate 9 is an ES module only, and this project is built as CommonJS (and tested under jest,
// whose module registry cannot load ES modules without its experimental VM flag), so the runner is
// imported natively in a worker thread, given the connection in workerData (not argv, not the env), and
// answers with the names it applied.

import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";
import { OperationFailedError } from "../../../common/errors";
import type { DbConfig } from "./db";

export const MIGRATIONS_TABLE = "pgmigrations";

/** The migrations folder: beside this file in the source tree; from dist/, the source tree's. */
export function migrationsDir(): string {
  const candidates = [
    path.join(__dirname, "migrations"),
    path.resolve(__dirname, "../../../../services/broker/store/migrations"),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`services/broker/store/migrations not found from ${__dirname}`);
}

export interface MigrateOptions {
  /** "up" (default) applies every migration not yet run; "down" undoes the last `count` */
  readonly direction?: "up" | "down";
  readonly count?: number;
  /** another folder of migrations (tests) */
  readonly dir?: string;
}

const WORKER = `
const { parentPort, workerData } = require("worker_threads");
const { pathToFileURL } = require("url");
import(pathToFileURL(workerData.module).href)
  .then(({ runner }) =>
    runner({
      databaseUrl: workerData.connection,
      dir: workerData.dir,
      direction: workerData.direction,
      count: workerData.count,
      migrationsTable: workerData.table,
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: "wait",
      log: () => undefined,
    }),
  )
  .then(
    (ran) => parentPort.postMessage({ ok: true, ran: ran.map((m) => m.name) }),
    (err) => parentPort.postMessage({ ok: false, message: String((err && err.message) || err), code: err && err.code }),
  );
`;

/** Applies (or undoes) migrations; resolves to the names of those it ran, in order. */
export async function migrate(config: DbConfig, opts: MigrateOptions = {}): Promise<string[]> {
  const direction = opts.direction ?? "up";
  const workerData = {
    module: require.resolve("node-pg-migrate"),
    connection: {
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.user,
      password: config.password,
      application_name: "geartrain-migrate",
    },
    dir: opts.dir ?? migrationsDir(),
    direction,
    count: opts.count ?? (direction === "up" ? Infinity : 1),
    table: MIGRATIONS_TABLE,
  };
  const worker = new Worker(WORKER, { eval: true, workerData, stdout: true, stderr: true });
  // the runner prints nothing (log is silenced); drain the streams so a stray line cannot block it
  worker.stdout.resume();
  worker.stderr.resume();
  const reply = await new Promise<{ ok: boolean; ran?: string[]; message?: string; code?: string }>(
    (resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) =>
        reject(new Error(`the migration worker exited (${code}) without answering`)),
      );
    },
  ).finally(() => worker.terminate());
  if (!reply.ok) {
    throw new OperationFailedError(
      `database migration ${direction} failed${reply.code ? ` (${reply.code})` : ""}: ${reply.message}`,
    );
  }
  return reply.ran ?? [];
}
