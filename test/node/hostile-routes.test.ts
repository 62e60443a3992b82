// Hostile gear, finding 5 (issue 8): route hijack. The owner of gear A asks for another gear's own host name
// `<app>-<namespace>.<cloud domain>` as an alias of A (the broker's add-alias, `frontend set`) before that
// gear has routes; the victim's install then failed and its URL served A's app. The cloud domain itself,
// other names under it and punycode (`xn--`) names were accepted as aliases too. Here A's app is a real gear
// process (an HTTP server run in gear A), the victim installs the shipped static cartridge, and every
// request goes through the private nginx by Host header. UIDs 63600-63649.

import { existsSync, promises as fs } from "fs";
import type { ChildProcess } from "child_process";
import { ConflictError, ValidationError } from "../../common/errors";
import { checkNode } from "../../node/check";
import { installCartridge, removeCartridge } from "../../node";
import { gearFrontendPath, setGearFrontend, type GearFrontendSpec } from "../../node/frontend/operations";
import { renderGearConf } from "../../node/frontend/render";
import { loopbackAddress } from "../../node/host/addresses";
import { spawnInGear } from "../../node/gear/run-in-gear";
import { cli } from "./helpers";
import { httpGet, makeCartridgeNode, waitFor, type CartridgeTestNode } from "./cartridge-helpers";

jest.setTimeout(180_000);

let node: CartridgeTestNode;
let attacker: { uuid: string; uid: number; home: string };
let victim: { uuid: string; uid: number; home: string };
let app: ChildProcess | null = null;
const EVIL = "evil-dev.example.com";
const SHOP = "shop-dev.example.com";

/** A's app: an HTTP server run as gear A on its first private IP that answers "evil app". */
const SERVER = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"evil app\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((sys.argv[1], 8080), H).serve_forever()
`;

function attackerSpec(hostnames: string[]): GearFrontendSpec {
  return {
    gearUuid: attacker.uuid,
    hostnames,
    routes: [{ path: "", backend: { ip: loopbackAddress(attacker.uid, 1), port: 8080 } }],
  };
}

beforeAll(async () => {
  node = await makeCartridgeNode("hroute", 63600, {
    config: { district: { firstUid: 63600, maxUid: 63649 } },
  });
  attacker = await node.gear(1, "evil");
  victim = await node.gear(2, "shop"); // no routes yet: its name must be reserved all the same
  app = await spawnInGear(node.ctx, attacker.uuid, [
    "/usr/bin/python3",
    "-c",
    SERVER,
    loopbackAddress(attacker.uid, 1),
  ]);
  await waitFor("the attacker's app", () =>
    httpGet(loopbackAddress(attacker.uid, 1), 8080).then(
      (r) => r.body === "evil app\n",
      () => false,
    ),
  );
});

afterAll(async () => {
  app?.kill("SIGKILL");
  await node?.cleanup();
});

test("another gear's own host name is refused as an alias; that gear's install then routes its name to it", async () => {
  const hijack = setGearFrontend(node.ctx, attackerSpec([EVIL, SHOP]));
  await expect(hijack).rejects.toThrow(ConflictError);
  await expect(setGearFrontend(node.ctx, attackerSpec([EVIL, SHOP]))).rejects.toThrow(
    `hostnames[1]: ${SHOP} is the host name of gear ${victim.uuid}`,
  );
  // the same through the operator CLI: a conflict (exit 5), nothing routed
  const viaCli = await cli(node, ["frontend", "set"], JSON.stringify(attackerSpec([EVIL, SHOP])));
  expect(viaCli.code).toBe(5);
  expect(existsSync(gearFrontendPath(node.config, attacker.uuid))).toBe(false);

  // A's own name is A's
  await setGearFrontend(node.ctx, attackerSpec([EVIL]));
  expect((await node.viaNginx(EVIL)).body).toBe("evil app\n");
  // the victim's install sets its route, and its URL serves the victim's app
  const res = await installCartridge(node.ctx, victim.uuid, { name: "static" }, { frontend: node.frontend });
  expect(res.routes).toMatchObject({ status: "set", hostnames: [SHOP] });
  const page = await node.viaNginx(SHOP);
  expect(page.status).toBe(200);
  expect(page.body).toMatch(/Welcome to your static site/);
  await removeCartridge(node.ctx, victim.uuid, "static", { frontend: node.frontend });
});

test("the cloud domain itself, other names under it and punycode labels are refused, naming the field", async () => {
  const bad: [string, RegExp][] = [
    ["example.com", /^invalid hostnames\[1\]: .*the cloud domain example\.com itself/],
    ["admin.example.com", /^invalid hostnames\[1\]: .*under the cloud domain example\.com/],
    ["xn--80ak6aa92e.com", /^invalid hostnames\[1\]: .*punycode/],
    ["www.xn--pple-43d.org", /^invalid hostnames\[1\]: .*punycode/],
  ];
  for (const [name, message] of bad) {
    const err = await setGearFrontend(node.ctx, attackerSpec([EVIL, name])).catch((e: Error) => e);
    expect([name, err instanceof ValidationError]).toEqual([name, true]);
    expect([name, (err as Error).message]).toEqual([name, expect.stringMatching(message)]);
    expect((err as ValidationError).field).toBe("hostnames[1]");
  }
  const viaCli = await cli(node, ["frontend", "set"], JSON.stringify(attackerSpec([EVIL, "example.com"])));
  expect(viaCli.code).toBe(3);
  expect(viaCli.json).toEqual({ error: expect.objectContaining({ kind: "invalid", field: "hostnames[1]" }) });
  // an alias outside the cloud domain is the owner's to choose
  await setGearFrontend(node.ctx, attackerSpec([EVIL, "www.evil.example.org"]));
  expect((await node.viaNginx("www.evil.example.org")).body).toBe("evil app\n");
});

test("node check reports a route that holds another gear's host name (a hijack from before the fix)", async () => {
  const file = gearFrontendPath(node.config, attacker.uuid);
  const saved = await fs.readFile(file, "utf8");
  try {
    await fs.writeFile(file, renderGearConf(attackerSpec([EVIL, SHOP]), node.config.frontend));
    const report = await checkNode(node.ctx);
    expect(report.failures).toContainEqual(
      expect.objectContaining({
        check: `frontend ${attacker.uuid}`,
        detail: expect.stringContaining(`${SHOP} is the host name of gear ${victim.uuid}`),
      }),
    );
  } finally {
    await fs.writeFile(file, saved);
  }
});
