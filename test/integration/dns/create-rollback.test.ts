// A DNS update that fails rolls the app create back (issue #10 item 6): the broker's DnsUpdater signs with
// a key the nameserver does not accept, so `geartrain app create` fails with the nameserver's refusal, and
// nothing is left: no application record, no gear on the node, the UID back in the district's pool, no
// DNS record, and neither secret in the broker's log or the CLI's output. UID block 64950-64999
// (docs/node-operations.md).

import { listGears } from "../../../node";
import { NsupdateDnsUpdater } from "../../../services/broker/dns";
import type { CliContext } from "../../../services/cli/base";
import { group as admin } from "../../../services/cli/groups/admin";
import { group as appGroup } from "../../../services/cli/groups/app";
import { group as domain } from "../../../services/cli/groups/domain";
import { group as login } from "../../../services/cli/groups/login";
import { makeCartridgeNode, type CartridgeTestNode } from "../../node/cartridge-helpers";
import { digStatus, startBind, type PrivateBind } from "../../helpers/services/bind";
import { startTestBroker, type TestBroker } from "../../helpers/services/broker";
import { testCli, type TestCli } from "../../helpers/cli-context";
import { startPostgres, type TestPostgres } from "../../helpers/services/postgres";
import { LocalNode } from "../broker/local-node";

jest.setTimeout(900_000);

const ZONE = "apps.geartrain.test";
const NODE = "dns-node";
const WRONG_SECRET = Buffer.alloc(32, 0x5a).toString("base64");

let pg: TestPostgres;
let bind: PrivateBind;
let node: CartridgeTestNode;
let broker: TestBroker;
let cli: TestCli;

beforeAll(async () => {
  pg = await startPostgres();
  bind = await startBind({ zone: ZONE });
  node = await makeCartridgeNode("bdns", 64950, { config: { cloudDomain: ZONE } });
  const local = new LocalNode(NODE, node.ctx, {
    profile: "small",
    maxActiveGears: 20,
    publicHostname: `node1.${ZONE}`,
  });
  const wrongKey = { ...bind.key(), secret: WRONG_SECRET };
  broker = await startTestBroker({
    db: pg.connection,
    bus: local,
    dns: new NsupdateDnsUpdater({ ...bind.nsupdateConfig(), key: wrongKey }),
  });
  await local.report(broker.db);
  await broker.makeUser("root", "root-dns-secret-Pw-1", "admin");
  cli = testCli({ prefix: "geartrain-cli-dns-" });
  cli.stdin.text = "root-dns-secret-Pw-1\n";
});

afterAll(async () => {
  cli?.cleanup();
  await broker?.stop();
  await node?.cleanup();
  await bind?.stop();
  await pg?.stop();
});

async function run(g: { runWith(a: readonly string[], c: CliContext): Promise<number> }, ...argv: string[]) {
  cli.out.length = 0;
  cli.err.length = 0;
  return g.runWith(argv, cli.ctx);
}

async function available(): Promise<number> {
  expect(await run(admin, "district", "show", "d1", "--json")).toBe(0);
  return JSON.parse(cli.out.join("\n")).available_capacity as number;
}

test("a refused DNS update fails the create and leaves nothing behind", async () => {
  expect(await run(login, "--server", broker.url, "--login", "root")).toBe(0);
  expect(
    await run(
      admin,
      "district",
      "create",
      "d1",
      "--gear-profile",
      "small",
      "--first-uid",
      "64950",
      "--capacity",
      "50",
    ),
  ).toBe(0);
  expect(await run(admin, "district", "add-node", "d1", NODE)).toBe(0);
  expect(await run(domain, "create", "ns1")).toBe(0);
  const before = await available();
  const gearsBefore = (await listGears(node.ctx)).length;

  const code = await run(appGroup, "create", "app1", "nodejs-20", "-n", "ns1", "--json");
  const shown = [...cli.out, ...cli.err].join("\n");
  expect(code).not.toBe(0);
  expect(JSON.parse(cli.out.join("\n")).error.message).toMatch(/refused|DNS/);
  expect(shown).not.toContain(WRONG_SECRET);
  expect(shown).not.toContain(bind.key().secret);

  expect(await run(appGroup, "show", "app1", "-n", "ns1")).toBe(4);
  expect(await run(appGroup, "list", "-n", "ns1")).toBe(0);
  expect(cli.out).toEqual(["No applications."]);
  expect((await listGears(node.ctx)).length).toBe(gearsBefore);
  expect(await available()).toBe(before);
  expect(await digStatus(bind, `app1-ns1.${ZONE}`)).toBe("NXDOMAIN");
  const log = broker.log();
  expect(log).not.toContain(WRONG_SECRET);
  expect(log).not.toContain(bind.key().secret);
});
