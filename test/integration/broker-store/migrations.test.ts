// The schema's migrations against a real private PostgreSQL: up from an empty database, a re-run applies
// nothing, down and up again converge, and concurrent runs (several brokers starting at once) migrate once.

import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { migrate, MIGRATIONS_TABLE } from "../../../services/broker/store/migrate";
import { startPostgres, type TestPostgres } from "../../helpers/services/postgres";

jest.setTimeout(120_000);

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(() => pg?.stop());

async function tables(): Promise<string[]> {
  const c = new Client(pg.connection);
  await c.connect();
  try {
    const { rows } = await c.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    return rows.map((r) => r.t);
  } finally {
    await c.end();
  }
}

const SCHEMA = [
  "app_cartridges",
  "applications",
  "authorizations",
  "district_free_uids",
  "district_nodes",
  "districts",
  "domains",
  "env_vars",
  "gears",
  "nodes",
  "pending_ops",
  MIGRATIONS_TABLE,
  "ssh_keys",
  "uid_reservations",
  "users",
].sort();

test("up from empty creates the schema; a second run applies nothing", async () => {
  expect(await tables()).toEqual([]);
  expect(await migrate(pg.connection)).toEqual(["0001_initial"]);
  expect(await tables()).toEqual(SCHEMA);
  expect(await migrate(pg.connection)).toEqual([]);
  expect(await tables()).toEqual(SCHEMA);
});

test("down removes it, up brings it back", async () => {
  expect(await migrate(pg.connection, { direction: "down" })).toEqual(["0001_initial"]);
  expect(await tables()).toEqual([MIGRATIONS_TABLE]);
  expect(await migrate(pg.connection)).toEqual(["0001_initial"]);
  expect(await tables()).toEqual(SCHEMA);
});

test("brokers starting together: concurrent runs apply each migration once", async () => {
  await migrate(pg.connection, { direction: "down" });
  const runs = await Promise.all([migrate(pg.connection), migrate(pg.connection), migrate(pg.connection)]);
  expect(runs.flat()).toEqual(["0001_initial"]);
  expect(await tables()).toEqual(SCHEMA);
});

test("a wrong password fails with the migration error and without the password in it", async () => {
  const err = await migrate({ ...pg.connection, password: "not-the-password" }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(/migration up failed/);
  expect((err as Error).message).not.toContain("not-the-password");
  expect((err as Error).message).not.toContain(pg.connection.password);
  expect(pg.log()).not.toContain(pg.connection.password);
});

test("the password is in no file of the cluster and not in the server's environment", () => {
  const pid = Number(fs.readFileSync(path.join(pg.dir, "data/postmaster.pid"), "utf8").split("\n")[0]);
  expect(pid).toBeGreaterThan(1);
  expect(fs.readFileSync(`/proc/${pid}/environ`, "latin1")).not.toContain(pg.connection.password);
  expect(fs.readFileSync(`/proc/${pid}/cmdline`, "latin1")).not.toContain(pg.connection.password);
  const files = fs.readdirSync(pg.dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  for (const e of files) {
    const file = path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    if (fs.statSync(file).size > 1 << 20) continue;
    expect(fs.readFileSync(file, "latin1")).not.toContain(pg.connection.password);
  }
});
