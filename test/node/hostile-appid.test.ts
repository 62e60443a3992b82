// Hostile gear, finding 8 (issue 8): a gear created with another app's app and namespace received that
// app's published database URL and password: publish/subscribe joined gears by name strings only. Now the
// broker names the application by its id (`appUuid` in the gear spec, kept in the marker), gears join only
// gears of the same id, a gear without one is alone, and a node refuses a second application under a name
// it already has. Here the attacker's gear process looks for the password in its environment; the victim
// runs the shipped postgresql cartridge, the attacker the nodejs one (which subscribes to it). UIDs
// 63650-63699.

import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { ConflictError } from "../../common/errors";
import { installCartridge } from "../../node";
import { createGear, listGears } from "../../node/gear/lifecycle";
import { readMarker } from "../../node/gear/marker";
import { runInGear } from "../../node/gear/run-in-gear";
import { cli, newUuid } from "./helpers";
import { makeCartridgeNode, type CartridgeTestNode } from "./cartridge-helpers";

jest.setTimeout(240_000);

const PASSWORD = "GEARTRAIN_POSTGRESQL_DB_PASSWORD";

let node: CartridgeTestNode;
beforeAll(async () => {
  node = await makeCartridgeNode("happid", 63650, {
    config: { district: { firstUid: 63650, maxUid: 63699 } },
  });
});
afterAll(async () => {
  await node?.cleanup();
});

/** The password the victim's database publishes (its cartridge env, where the postgresql cartridge keeps it). */
function publishedPassword(home: string): string {
  const inCartridge = path.join(home, "postgresql/env", PASSWORD);
  return readFileSync(existsSync(inCartridge) ? inCartridge : path.join(home, ".env", PASSWORD), "utf8");
}

/** What the gear's own processes see of the database password ("" when they have none). */
async function passwordSeenBy(uuid: string): Promise<string> {
  const r = await runInGear(node.ctx, uuid, ["/bin/sh", "-c", `printf %s "\${${PASSWORD}-}"`]);
  expect(r.code).toBe(0);
  return r.stdout;
}

test("a gear with another app's app and namespace but no application id receives nothing of it", async () => {
  const victim = await node.gear(1, "shop");
  const attacker = await node.gear(2, "shop"); // same names, no application id: a gear of its own
  const fe = { frontend: node.frontend };
  await installCartridge(node.ctx, victim.uuid, { name: "postgresql" }, fe);
  const secret = publishedPassword(victim.home);
  expect(secret.length).toBeGreaterThan(8);

  const res = await installCartridge(node.ctx, attacker.uuid, { name: "nodejs" }, fe);
  expect(res.cartridge.status).toBe("started");
  expect(existsSync(path.join(attacker.home, ".env", PASSWORD))).toBe(false);
  expect(await passwordSeenBy(attacker.uuid)).toBe("");
});

test("gears join by application id: another id (or none) under the app's name is refused, the app's gears connect", async () => {
  const appUuid = newUuid();
  const victim = await node.gear(10, "mall", "dev", appUuid);
  expect((await readMarker(node.config, victim.uuid))?.spec.appUuid).toBe(appUuid);
  const fe = { frontend: node.frontend };
  await installCartridge(node.ctx, victim.uuid, { name: "postgresql" }, fe);
  const secret = publishedPassword(victim.home);

  // a second application under the same name on this node: refused before anything is made
  for (const [what, extra] of [
    ["another id", { appUuid: newUuid() }],
    ["no id", {}],
  ] as const) {
    const uuid = newUuid();
    const err = await createGear(node.ctx, {
      uuid,
      uid: node.uid(11),
      app: "mall",
      namespace: "dev",
      ...extra,
    }).catch((e: Error) => e);
    expect([what, err instanceof ConflictError]).toEqual([what, true]);
    expect((err as Error).message).toContain(`app mall in namespace dev belongs to application ${appUuid}`);
    expect((await listGears(node.ctx)).map((g) => g.uuid)).not.toContain(uuid);
  }
  // the application's id under another name: refused too
  const renamed = await createGear(node.ctx, {
    uuid: newUuid(),
    uid: node.uid(11),
    app: "mallcopy",
    namespace: "dev",
    appUuid,
  }).catch((e: Error) => e);
  expect(renamed).toBeInstanceOf(ConflictError);

  // a gear of the same application gets the database's variables, across gears
  const web = await node.gear(12, "mall", "dev", appUuid);
  await installCartridge(node.ctx, web.uuid, { name: "nodejs" }, fe);
  expect(await passwordSeenBy(web.uuid)).toBe(secret);
  const listed = (await listGears(node.ctx)).find((g) => g.uuid === web.uuid);
  expect(listed).toMatchObject({ app: "mall", namespace: "dev", appUuid });
});

test("CLI: gear create takes --app-uuid (validated like a uuid) and gear list shows it", async () => {
  const uuid = newUuid();
  const create = (appUuid: string) =>
    cli(node, [
      ...["gear", "create", "--uuid", uuid, "--uid", String(node.uid(20))],
      ...["--app", "cliapp", "--namespace", "dev", "--app-uuid", appUuid],
    ]);
  const bad = await create("not-hex");
  expect(bad.code).toBe(3);
  expect(bad.json).toEqual({ error: expect.objectContaining({ kind: "invalid", field: "appUuid" }) });
  const appUuid = newUuid();
  const ok = await create(appUuid);
  expect([ok.code, ok.stderr]).toEqual([0, ""]);
  expect(ok.json).toMatchObject({ uuid, spec: { appUuid } });
  const list = await cli(node, ["gear", "list"]);
  expect(list.json).toContainEqual(expect.objectContaining({ uuid, appUuid }));
});
