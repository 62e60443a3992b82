// The `geartrain` CLI against the running broker, every verb: real PostgreSQL, real BIND (TSIG nsupdate), a
// real node (gears, cartridges, private nginx) behind the broker's in-process node caller, the broker's
// REST layer and application service. The CLI speaks only REST (clients/broker). `geartrain check` is
// clean after the creates, finds a gear planted on the node behind the broker's back (exit 6, with the
// repair), and is clean again after that repair. UID block 64900-64949 (docs/node-operations.md).

import { statSync, writeFileSync } from "fs";
import * as path from "path";
import { destroyGear } from "../../../node";
import { NsupdateDnsUpdater } from "../../../services/broker/dns";
import type { CliContext } from "../../../services/cli/base";
import { group as admin } from "../../../services/cli/groups/admin";
import { group as appGroup } from "../../../services/cli/groups/app";
import { group as cartridge } from "../../../services/cli/groups/cartridge";
import { group as check } from "../../../services/cli/groups/check";
import { group as domain } from "../../../services/cli/groups/domain";
import { group as env } from "../../../services/cli/groups/env";
import { group as login } from "../../../services/cli/groups/login";
import { group as sshkey } from "../../../services/cli/groups/sshkey";
import { makeCartridgeNode, type CartridgeTestNode } from "../../node/cartridge-helpers";
import { dig, digStatus, startBind, type PrivateBind } from "../../helpers/services/bind";
import { startTestBroker, type TestBroker } from "../../helpers/services/broker";
import { startPostgres, type TestPostgres } from "../../helpers/services/postgres";
import { testCli, type TestCli } from "../../helpers/cli-context";
import { keygen } from "../../helpers/sshd";
import { LocalNode } from "../broker/local-node";

jest.setTimeout(900_000);

const ZONE = "apps.geartrain.test";
const NODE = "cli-node";
const NODE_HOST = `node1.${ZONE}`;
const ROOT_PW = "root-cli-secret-Pw-1";
const ALICE_PW = "alice-cli-secret-Pw-2";

let pg: TestPostgres;
let bind: PrivateBind;
let node: CartridgeTestNode;
let local: LocalNode;
let broker: TestBroker;

type User = TestCli;
let root: User;
let alice: User;

function user(name: string): User {
  return testCli({ prefix: `geartrain-cli-${name}-`, progressMs: 1000 });
}

type Group = { runWith(argv: readonly string[], ctx: CliContext): Promise<number> };

/** Runs a command as `u` and expects `code` (0 by default); returns its stdout lines. */
async function as(u: User, g: Group, argv: string[], code = 0): Promise<string[]> {
  u.out.length = 0;
  u.err.length = 0;
  const got = await g.runWith(argv, u.ctx);
  if (got !== code)
    throw new Error(
      `${argv.join(" ")}: exit ${got}, expected ${code}\nstdout:\n${u.out.join("\n")}\nstderr:\n${u.err.join("\n")}`,
    );
  return [...u.out];
}

async function loginAs(u: User, login_: string, password: string): Promise<void> {
  const pw = path.join(u.home, "password");
  writeFileSync(pw, `${password}\n`, { mode: 0o600 });
  await as(u, login, ["--server", broker.url, "--login", login_, "--password-file", pw]);
  expect(statSync(path.join(u.home, "client.json")).mode & 0o777).toBe(0o600);
}

beforeAll(async () => {
  pg = await startPostgres();
  bind = await startBind({ zone: ZONE });
  node = await makeCartridgeNode("bcli", 64900, { config: { cloudDomain: ZONE } });
  local = new LocalNode(NODE, node.ctx, { profile: "small", maxActiveGears: 20, publicHostname: NODE_HOST });
  broker = await startTestBroker({
    db: pg.connection,
    bus: local,
    dns: new NsupdateDnsUpdater(bind.nsupdateConfig()),
  });
  await local.report(broker.db);
  await broker.makeUser("root", ROOT_PW, "admin");
  await broker.makeUser("alice", ALICE_PW);
  root = user("root");
  alice = user("alice");
});

afterAll(async () => {
  for (const u of [root, alice]) if (u) u.cleanup();
  await broker?.stop();
  await node?.cleanup();
  await bind?.stop();
  await pg?.stop();
});

test("admin: districts and nodes", async () => {
  await loginAs(root, "root", ROOT_PW);
  const created = await as(root, admin, [
    "district",
    "create",
    "d1",
    "--gear-profile",
    "small",
    "--first-uid",
    "64900",
    "--capacity",
    "50",
  ]);
  expect(created.join("\n")).toMatch(/UIDs:\s+64900-64949 \(50 of 50 free\)/);
  await as(root, admin, ["district", "create", "d1", "--gear-profile", "small"], 5);
  await as(root, admin, ["district", "add-node", "d1", NODE]);
  await as(root, admin, ["district", "deactivate-node", "d1", NODE]);
  expect((await as(root, admin, ["district", "show", "d1"])).join("\n")).toMatch(/cli-node \(inactive\)/);
  await as(root, admin, ["district", "activate-node", "d1", NODE]);
  const list = await as(root, admin, ["district", "list"]);
  expect(list[1]).toMatch(/^d1\s+small\s+64900-64949\s+50\s+cli-node$/);
  const nodes = await as(root, admin, ["node", "list", "--json"]);
  expect(JSON.parse(nodes.join("\n"))).toEqual([
    expect.objectContaining({ name: NODE, district: "d1", responsive: true, public_hostname: NODE_HOST }),
  ]);
  expect((await as(root, admin, ["node", "show", NODE])).join("\n")).toMatch(/Cartridges: .*nodejs-20/);
  await as(root, admin, ["node", "show", "nope"], 4);
});

test("a developer: domain, keys, app lifecycle, cartridges, env; check is clean, then finds and repairs", async () => {
  await loginAs(alice, "alice", ALICE_PW);
  await as(alice, admin, ["district", "list"], 1); // not an admin
  await as(alice, domain, ["create", "ns1"]);
  expect((await as(alice, domain, ["list"]))[1]).toMatch(/^ns1\s+alice/);

  const pub = keygen(path.join(alice.home, "id"), "ed25519", "alice@test");
  writeFileSync(path.join(alice.home, "id.pub"), pub + "\n");
  await as(alice, sshkey, ["add", "laptop", path.join(alice.home, "id.pub")]);
  expect((await as(alice, sshkey, ["list"]))[1]).toMatch(/^laptop\s+ssh-ed25519/);

  const shown = await as(alice, appGroup, [
    "create",
    "app1",
    "nodejs-20",
    "-n",
    "ns1",
    "--env",
    "GREETING=hi",
  ]);
  expect(alice.err[0]).toBe("Creating application app1 in ns1 with nodejs-20 ...");
  expect(alice.err.some((l) => /^Application app1 created in [\d.]+ s$/.test(l))).toBe(true);
  expect(shown[0]).toMatch(
    new RegExp(`^app1 @ http://app1-ns1\\.${ZONE.replace(/\./g, "\\.")}/ \\(uuid [0-9a-f]{32}\\)$`),
  );
  expect(await dig(bind, `app1-ns1.${ZONE}`, "CNAME")).toEqual([`${NODE_HOST}.`]);
  expect((await node.viaNginx(`app1-ns1.${ZONE}`)).status).toBe(200);

  expect((await as(alice, appGroup, ["list"]))[1]).toMatch(/^app1\s+ns1\s+http:\/\/app1-ns1/);
  expect(await as(alice, appGroup, ["show", "app1"])).toContain("    nodejs-20");
  expect((await as(alice, domain, ["show", "ns1"])).join("\n")).toMatch(/app1/);
  for (const verb of ["stop", "start", "restart", "tidy"]) await as(alice, appGroup, [verb, "app1"]);
  await as(alice, appGroup, ["show", "nope"], 4);

  expect((await as(alice, cartridge, ["list"])).join("\n")).toMatch(/postgresql-15\s+addon/);
  await as(alice, cartridge, ["add", "postgresql-15", "-a", "app1"]);
  expect(
    JSON.parse((await as(alice, cartridge, ["list", "-a", "app1", "--json"])).join("\n")).map(
      (c: { name: string }) => c.name,
    ),
  ).toEqual(["nodejs-20", "postgresql-15"]);
  await as(alice, env, ["set", "A=1", "B=two", "-a", "app1"]);
  const vars = JSON.parse((await as(alice, env, ["list", "-a", "app1", "--json"])).join("\n"));
  expect(vars).toEqual(
    expect.arrayContaining([
      { name: "A", value: "1" },
      { name: "GREETING", value: "hi" },
    ]),
  );
  await as(alice, env, ["unset", "A", "-a", "app1"]);
  expect(JSON.parse((await as(alice, env, ["list", "-a", "app1", "--json"])).join("\n"))).not.toEqual(
    expect.arrayContaining([{ name: "A", value: "1" }]),
  );

  // check: clean, with DNS
  const dns = `${bind.server}:${bind.port}`;
  const clean = await as(root, check, ["--dns-server", dns]);
  expect(clean.at(-1)).toBe("OK: 1 gear record(s), 1 node(s), 1 DNS record(s) checked; 0 finding(s)");
  // a gear planted on the node behind the broker's back is found, with its repair
  const planted = await node.gear(40, "ghost", "nowhere");
  const report = JSON.parse((await as(root, check, ["--json"], 6)).join("\n"));
  expect(report.findings).toEqual([
    expect.objectContaining({
      kind: "gear-orphan",
      node: NODE,
      gear: planted.uuid,
      repair: `on ${NODE}, as root: geartrain node gear destroy ${planted.uuid}`,
    }),
  ]);
  await destroyGear(node.ctx, planted.uuid); // what the repair says, done here through the node layer
  await as(root, check, []);

  await as(alice, cartridge, ["remove", "postgresql-15", "-a", "app1", "--confirm"]);
  await as(alice, appGroup, ["delete", "app1", "--confirm"]);
  expect(await digStatus(bind, `app1-ns1.${ZONE}`)).toBe("NXDOMAIN");
  await as(alice, appGroup, ["show", "app1"], 4);
  await as(alice, sshkey, ["remove", "laptop"]);
  await as(alice, domain, ["delete", "ns1", "--confirm"]);
  await as(alice, domain, ["show", "ns1"], 4);

  // the node is empty again: it can leave its district
  await as(root, admin, ["district", "deactivate-node", "d1", NODE]);
  await as(root, admin, ["district", "remove-node", "d1", NODE]);
  expect((await as(root, admin, ["district", "show", "d1"])).join("\n")).toMatch(/Nodes:\s+none/);
  // no password or token in the broker's log
  const log = broker.log();
  for (const secret of [ROOT_PW, ALICE_PW]) expect(log).not.toContain(secret);
});
