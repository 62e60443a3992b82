// Idling through the whole stack: an idle gear's cartridges are stopped and nginx shows the starting
// page; the node's unidler starts the gear's cartridges on the first request and routes back to the app.

import { freePort } from "../helpers/private-nginx";
import { readGearFrontend } from "../../node/frontend/operations";
import { idleGear, runUnidler } from "../../node/cartridge/idle";
import { cartridgeStatus, installCartridge } from "../../node";
import { makeCartridgeNode, type CartridgeTestNode } from "./cartridge-helpers";

jest.setTimeout(120_000);

let node: CartridgeTestNode;
let unidlerPort: number;
beforeAll(async () => {
  unidlerPort = await freePort();
  node = await makeCartridgeNode("cidle", 62800, { idleStarter: `127.0.0.1:${unidlerPort}` });
});
afterAll(async () => {
  await node?.cleanup();
});

test("an idle gear shows the starting page and is started by its first request", async () => {
  const host = "idleapp-dev.example.com";
  const g = await node.gear(1, "idleapp");
  await installCartridge(node.ctx, g.uuid, { name: "static" }, { frontend: node.frontend });
  expect((await node.viaNginx(host)).status).toBe(200);

  await idleGear(node.ctx, g.uuid, { frontend: node.frontend });
  expect((await cartridgeStatus(node.ctx, g.uuid)).map((c) => c.status)).toEqual(["stopped"]);
  expect((await readGearFrontend(node.ctx, g.uuid))?.idle).toBe(true);
  // the unidler is not running yet: nginx answers with the starting page itself and nothing starts
  const before = await node.viaNginx(host);
  expect(before.status).toBe(503);
  expect((await cartridgeStatus(node.ctx, g.uuid))[0].status).toBe("stopped");

  const unidler = await runUnidler(node.ctx, {
    frontend: node.frontend,
    listen: { host: "127.0.0.1", port: unidlerPort },
  });
  try {
    const first = await node.viaNginx(host);
    expect(first.status).toBe(503);
    expect(first.body).toMatch(/starting/i);
    await unidler.starting.get(g.uuid);
    expect((await cartridgeStatus(node.ctx, g.uuid))[0].status).toBe("started");
    expect((await readGearFrontend(node.ctx, g.uuid))?.idle).toBeUndefined();
    const after = await node.viaNginx(host);
    expect(after.status).toBe(200);
    expect(after.body).toMatch(/Welcome to your static site/);
  } finally {
    await unidler.close();
  }
});
