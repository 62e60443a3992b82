// Shared by the broker-store tests: a private PostgreSQL per test file, migrated, and a way to run a
// TypeScript script as a separate OS process (another "broker") with JSON on its stdin.

import { spawn, type ChildProcess } from "child_process";
import * as path from "path";
import { Db } from "../../../services/broker/store/db";
import { migrate } from "../../../services/broker/store/migrate";
import { startPostgres, type PgConnection, type TestPostgres } from "../../helpers/services/postgres";

const REPO = path.resolve(__dirname, "../../..");
const REGISTER = path.join(REPO, "test/helpers/register-ts.js");

export interface StoreFixture {
  pg: TestPostgres;
  db: Db;
  connection: PgConnection;
}

export async function startStore(): Promise<StoreFixture> {
  const pg = await startPostgres();
  try {
    await migrate(pg.connection);
    return { pg, db: new Db({ ...pg.connection, max: 10 }), connection: pg.connection };
  } catch (err) {
    await pg.stop();
    throw err;
  }
}

export async function stopStore(f: StoreFixture | undefined): Promise<void> {
  if (!f) return;
  await f.db.close().catch(() => undefined);
  await f.pg.stop();
}

/** Starts `node -r register-ts script` with input as JSON on stdin (the password never on argv). */
export function spawnScript(script: string, input: unknown): ChildProcess {
  const child = spawn(process.execPath, ["-r", REGISTER, path.join(__dirname, script)], {
    stdio: ["pipe", "pipe", "pipe"],
    cwd: REPO,
  });
  child.stdin!.end(JSON.stringify(input));
  return child;
}

/** Runs a script to its end; resolves to its stdout parsed as JSON, rejects with its stderr. */
export function runScript<T>(script: string, input: unknown): Promise<T> {
  const child = spawnScript(script, input);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolve(JSON.parse(out) as T);
      else reject(new Error(`${script} exited ${code ?? signal}: ${err}`));
    });
  });
}
