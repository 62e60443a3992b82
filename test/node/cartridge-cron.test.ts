// The cron cartridge on the real host, in a gear with three cartridges (postgresql, nodejs, cron): the
// node's runner (what the system cron calls) runs the app's .geartrain/cron/<frequency>/ jobs as the gear,
// with the gear's env (here: the database's variables); stop disables them; remove leaves nothing.

import { readFileSync, statSync } from "fs";
import * as path from "path";
import { loopbackAddress } from "../../node/host/addresses";
import { runCronJobs } from "../../node/cartridge/cron";
import { controlCartridge, installCartridge, removeCartridge } from "../../node";
import { inspectGear } from "../../node/gear/lifecycle";
import { runInGear } from "../../node/gear/run-in-gear";
import { cli } from "./helpers";
import { gearSnapshot, httpGet, makeCartridgeNode, type CartridgeTestNode } from "./cartridge-helpers";

jest.setTimeout(180_000);

let node: CartridgeTestNode;
beforeAll(async () => {
  node = await makeCartridgeNode("ccron", 62200);
});
afterAll(async () => {
  await node?.cleanup();
});

/** Write a file as the gear (content on stdin; the script text is constant). */
async function writeAsGear(uuid: string, file: string, content: string, mode: string): Promise<void> {
  const r = await runInGear(
    node.ctx,
    uuid,
    ["/bin/sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', "sh", file, mode],
    { input: content },
  );
  expect([r.code, r.stderr]).toEqual([0, ""]);
}

test("jobs run as the gear with its env; stop disables them; three cartridges in one gear", async () => {
  const g = await node.gear(1, "cronapp");
  const before = await gearSnapshot(node, g);
  const fe = { frontend: node.frontend };
  await installCartridge(node.ctx, g.uuid, { name: "postgresql" }, fe);
  // the database was there first: the web cartridge starts with its variables
  await installCartridge(node.ctx, g.uuid, { name: "nodejs" }, fe);
  const webIp = loopbackAddress(g.uid, 2);
  expect((await httpGet(webIp, 8080, "/")).body).toContain(
    `Database: PostgreSQL at ${loopbackAddress(g.uid, 1)}:5432`,
  );
  const cron = await installCartridge(node.ctx, g.uuid, { name: "cron" }, fe);
  expect(cron.cartridge).toMatchObject({ name: "cron", status: "started" });
  expect(cron.steps).toEqual(["copy", "env", "render-env", "render", "start"]);
  const page = await node.viaNginx("cronapp-dev.example.com", "/");
  expect(page.status).toBe(200);
  expect(page.body).toContain("Database: PostgreSQL");

  const repo = path.join(g.home, "app-root/runtime/repo");
  const ticks = path.join(g.home, "app-root/data/ticks");
  await writeAsGear(
    g.uuid,
    `${repo}/.geartrain/cron/minutely/tick`,
    '#!/bin/sh\nset -eu\nprintf \'%s %s %s\\n\' "$(id -u)" "$(pwd)" "$(psql "$GEARTRAIN_POSTGRESQL_DB_URL" -XAtc \'select current_database()\')" >> "${GEARTRAIN_DATA_DIR}ticks"\n',
    "0700",
  );
  await writeAsGear(g.uuid, `${repo}/.geartrain/cron/minutely/not.run`, "#!/bin/sh\nexit 9\n", "0700"); // run-parts names only
  await writeAsGear(g.uuid, `${repo}/.geartrain/cron/minutely/README`, "not executable\n", "0600");
  await writeAsGear(
    g.uuid,
    `${repo}/.geartrain/cron/hourly/broken`,
    "#!/bin/sh\necho failing >&2\nexit 4\n",
    "0700",
  );

  // what `cron-run minutely` does for every gear with cron started
  expect(await runCronJobs(node.ctx, "minutely", { uuids: [g.uuid] })).toEqual([
    { uuid: g.uuid, exitCode: 0, output: "" },
  ]);
  expect(readFileSync(ticks, "utf8")).toBe(`${g.uid} ${repo} cronapp\n`);
  expect(statSync(ticks).uid).toBe(g.uid);
  const hourly = await runCronJobs(node.ctx, "hourly", { uuids: [g.uuid] });
  expect(hourly).toEqual([{ uuid: g.uuid, exitCode: 1, output: "" }]);
  const log = readFileSync(path.join(g.home, "app-root/logs/cron.log"), "utf8");
  expect(log).toMatch(/hourly broken: start\nfailing\n.*hourly broken: exit 4\n/);
  expect(log).not.toContain("not.run");
  expect(await runCronJobs(node.ctx, "daily", { uuids: [g.uuid] })).toEqual([
    { uuid: g.uuid, exitCode: 0, output: "" },
  ]);
  await expect(runCronJobs(node.ctx, "yearly")).rejects.toThrow(/must be one of minutely/);

  // stopped: not run
  expect((await controlCartridge(node.ctx, g.uuid, "cron", "stop", [], fe)).ok).toBe(true);
  expect(await runCronJobs(node.ctx, "minutely", { uuids: [g.uuid] })).toEqual([]);
  expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([]);
  // started again, through the CLI as the system cron calls it
  expect((await controlCartridge(node.ctx, g.uuid, "cron", "start", [], fe)).ok).toBe(true);
  const viaCli = await cli(node, ["cartridge", "cron-run", "minutely", "--uuid", g.uuid]);
  expect([viaCli.code, viaCli.json]).toEqual([0, [{ uuid: g.uuid, exitCode: 0, output: "" }]]);
  expect(readFileSync(ticks, "utf8").split("\n").filter(Boolean)).toHaveLength(2);

  const ins = await inspectGear(node.ctx, g.uuid);
  expect(ins.cartridges.map((c) => `${c.name} ${c.status}`)).toEqual([
    "cron started",
    "nodejs started",
    "postgresql started",
  ]);
  expect(ins.drift).toEqual([]);

  // remove all three: what is left is exactly what the app itself wrote (jobs, their output, the cron log)
  for (const c of ["cron", "nodejs", "postgresql"])
    expect(await removeCartridge(node.ctx, g.uuid, c, fe)).toMatchObject({ removed: true, warnings: [] });
  const after = await gearSnapshot(node, g);
  const appWrote = (line: string) =>
    / app-root\/(runtime\/repo\/\.geartrain|data\/ticks|logs\/cron\.log)/.test(line);
  expect(after.tree.filter((l) => !appWrote(l))).toEqual(before.tree);
  expect(after.tree.filter(appWrote).length).toBeGreaterThan(0);
  expect(after.processes).toEqual([]);
  expect(after.frontend).toBeNull();
});
