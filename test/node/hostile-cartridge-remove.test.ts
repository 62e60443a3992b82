// Issue 8 finding 1, as the attack: root removes a cartridge directory the gear owns while a gear process
// races it. The gear fills ~/<cartridge>/x with files named like the victim's and, as soon as root deletes
// the first of them, renames x away and puts a symlink to the victim directory in its place. Whatever root
// deletes after that must still be inside the gear: the victim directory outside it stays as it was.
// Three ways in: cartridge remove, the undo of a failed install, and remove of a directory without a record.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { installCartridge } from "../../node/cartridge/install";
import { removeCartridge } from "../../node/cartridge/remove";
import { recordPath } from "../../node/cartridge/records";
import { addToRepository } from "../../node/cartridge/repository";
import { createGear } from "../../node/gear/lifecycle";
import { makeTestNode, newUuid, REPO, type TestNode } from "./helpers";
import {
  buildAttacker,
  changes,
  fingerprint,
  makeVictimDir,
  runAttacker,
  startAttacker,
  UNCHANGED,
  type Attacker,
} from "./hostile-helpers";

jest.setTimeout(180_000);

const VICTIMS = 2000;
const FILLED = 6000;

let node: TestNode;
let work: string;
let attackerBin: string;
const attackers: Attacker[] = [];

beforeAll(async () => {
  node = await makeTestNode("hremove", 63300);
  work = mkdtempSync("/tmp/gt-test-hremove-work-");
  attackerBin = buildAttacker(node.dir);
  await addToRepository(node.config, path.join(REPO, "test/fixtures/cartridges/minimal"));
  // a cartridge whose bin/setup fills x/ with the victims' names and then fails: the install is undone
  const failing = path.join(work, "fillfail");
  for (const d of ["metadata", "bin", "env"]) mkdirSync(path.join(failing, d), { recursive: true });
  writeFileSync(
    path.join(failing, "metadata/manifest.yml"),
    [
      "Name: fillfail",
      "Cartridge-Short-Name: FILLFAIL",
      'Cartridge-Version: "0.0.1"',
      "Cartridge-Vendor: testing",
      'Version: "1.0"',
      "",
    ].join("\n"),
  );
  writeFileSync(path.join(failing, "bin/control"), "#!/bin/bash\nexit 0\n", { mode: 0o755 });
  writeFileSync(
    path.join(failing, "bin/setup"),
    [
      "#!/bin/bash",
      `mkdir x && touch $(seq -f 'x/v%05g' 0 ${FILLED - 1}) || exit 1`,
      "# the gear's attacker is watching x/ once it made x/.armed",
      "for i in $(seq 100); do [ -e x/.armed ] && break; sleep 0.1; done",
      "exit 3",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  await addToRepository(node.config, failing);
});

afterEach(async () => {
  for (const a of attackers.splice(0)) await a.stop();
});

afterAll(async () => {
  for (const a of attackers.splice(0)) await a.stop();
  await node?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function gearWithMinimal(i: number): Promise<{ uuid: string; home: string }> {
  const uuid = newUuid();
  await createGear(
    node.ctx,
    { uuid, uid: node.uid(i), app: "myapp", namespace: "dev", profile: "small" },
    { inspect: false },
  );
  await installCartridge(node.ctx, uuid, { name: "minimal" }, { frontend: null });
  return { uuid, home: path.join(node.config.gearBaseDir, uuid) };
}

/** Fill ~/minimal/x as the gear and arm the swap: returns the attacker (already watching). */
async function armed(uuid: string, home: string, victim: string): Promise<Attacker> {
  const x = path.join(home, "minimal", "x");
  await runAttacker(node.ctx, uuid, attackerBin, ["fill", x, String(FILLED)]);
  const a = await startAttacker(node.ctx, uuid, attackerBin, ["swap-on-delete", x, victim]);
  attackers.push(a);
  return a;
}

test("cartridge remove: the gear's swap of x for a link to a victim directory deletes nothing outside", async () => {
  const { uuid, home } = await gearWithMinimal(0);
  const victim = makeVictimDir(work, VICTIMS);
  const before = fingerprint(victim);
  const a = await armed(uuid, home, victim);

  await removeCartridge(node.ctx, uuid, "minimal", { frontend: null }).catch(() => undefined);

  expect(await a.waitFor("swapped")).toContain("swapped"); // the race happened
  expect(changes(before, fingerprint(victim))).toEqual(UNCHANGED);
});

test("a failed install's undo: the same swap deletes nothing outside the gear", async () => {
  const uuid = newUuid();
  await createGear(
    node.ctx,
    { uuid, uid: node.uid(1), app: "myapp", namespace: "dev", profile: "small" },
    { inspect: false },
  );
  const home = path.join(node.config.gearBaseDir, uuid);
  const victim = makeVictimDir(work, VICTIMS);
  const before = fingerprint(victim);
  // running before the install starts (so the undo does not count it as the install's): waits for x/
  const a = await startAttacker(
    node.ctx,
    uuid,
    attackerBin,
    ["swap-on-delete", path.join(home, "fillfail", "x"), victim],
    "started",
  );
  attackers.push(a);
  await expect(installCartridge(node.ctx, uuid, { name: "fillfail" }, { frontend: null })).rejects.toThrow(
    /bin\/setup failed/,
  );

  expect(await a.waitFor("swapped")).toContain("swapped"); // the race happened
  expect(changes(before, fingerprint(victim))).toEqual(UNCHANGED);
});

test("remove of a directory without a record: the same swap deletes nothing outside the gear", async () => {
  const { uuid, home } = await gearWithMinimal(2);
  rmSync(recordPath(home, "minimal")); // an operator's leftover: a cartridge directory without its record
  const victim = makeVictimDir(work, VICTIMS);
  const before = fingerprint(victim);
  const a = await armed(uuid, home, victim);

  const r = await removeCartridge(node.ctx, uuid, "minimal", { frontend: null }).catch((e: Error) => e);

  expect(await a.waitFor("swapped")).toContain("swapped"); // the race happened
  expect(changes(before, fingerprint(victim))).toEqual(UNCHANGED);
  expect(r).not.toBeInstanceOf(Error);
});
