// A private PostgreSQL cluster per test file, started by the project's own scripts/services/postgres.sh:
// a data dir under os.tmpdir(), a free port on 127.0.0.1, a role and database of its own with a random
// password (handed to the script in a 0600 file, never on argv). stop() stops the server and removes the dir.

import { execFile } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { freePort } from "../private-nginx";
import { REPO_ROOT } from "../repo-root";

const run = promisify(execFile);
export const POSTGRES_SCRIPT = path.join(REPO_ROOT, "scripts/services/postgres.sh");
export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** Connection facts for pg's Client/Pool (no URL: the password stays a separate value). */
export interface PgConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

export interface TestPostgres {
  readonly connection: PgConnection;
  readonly dir: string;
  /** the server's log (for assertions that no secret reached it) */
  log(): string;
  /** stops the server, keeping its data (a database outage) */
  pause(): Promise<void>;
  /** starts it again on the same port and data */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Fails loudly, naming the fix, when Debian's PostgreSQL 15 server binaries are not installed. */
export function requirePostgres(): void {
  const missing = ["initdb", "pg_ctl", "postgres", "psql"]
    .map((b) => path.join(PG_BIN, b))
    .filter((f) => !fs.existsSync(f));
  if (missing.length) {
    throw new Error(
      `missing ${missing.join(", ")}. Fix: apt-get update && apt-get install -y postgresql ` +
        "(listed in scripts/debian-packages.txt)",
    );
  }
}

export async function startPostgres(opts: { database?: string; user?: string } = {}): Promise<TestPostgres> {
  requirePostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-pg-"));
  const secrets = fs.mkdtempSync(path.join(os.tmpdir(), "gt-pg-secret-"));
  const password = randomBytes(18).toString("base64url");
  const passwordFile = path.join(secrets, "password");
  fs.writeFileSync(passwordFile, password, { mode: 0o600 });
  const database = opts.database ?? "geartrain";
  const user = opts.user ?? "geartrain";
  const script = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run("bash", [POSTGRES_SCRIPT, ...args], { env: { ...process.env, PG_BIN, ...env }, timeout: 120_000 });
  let port = 0;
  try {
    // a port found free can be taken before the server binds it: try another one then
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        await script(
          ["start", "--dir", dir, "--port", String(port), "--db", database, "--role", user, "--ephemeral"],
          { PG_PASSWORD_FILE: passwordFile },
        );
        break;
      } catch (err) {
        const log = readIfThere(path.join(dir, "postgres.log"));
        if (attempt < 2 && /could not bind|Address already in use/.test(log)) {
          await script(["stop", "--dir", dir]).catch(() => undefined);
          fs.rmSync(path.join(dir, "data"), { recursive: true, force: true });
          continue;
        }
        throw new Error(`${POSTGRES_SCRIPT} start failed: ${(err as Error).message}\n${log}`);
      }
    }
  } catch (err) {
    await script(["stop", "--dir", dir]).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    fs.rmSync(secrets, { recursive: true, force: true });
  }
  return {
    connection: { host: "127.0.0.1", port, database, user, password },
    dir,
    log: () => readIfThere(path.join(dir, "postgres.log")),
    pause: async () => {
      await script(["stop", "--dir", dir]);
    },
    resume: async () => {
      await script(["start", "--dir", dir, "--port", String(port), "--db", database, "--role", user], {
        PG_PASSWORD: password,
      });
    },
    stop: async () => {
      try {
        await script(["stop", "--dir", dir]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function readIfThere(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
