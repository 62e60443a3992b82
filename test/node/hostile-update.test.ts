// Issue 8 finding 2, as the attack: `gear update` (repair) puts back what the gear broke in its own home,
// while a gear process races it. (1) The gear turns git/<app>.git/HEAD into a directory full of files named
// like a victim's and swaps it for a link to the victim as soon as root deletes the first; (2) the gear
// swaps its refs/ directory with a link to a victim directory in a tight loop (renameat2 RENAME_EXCHANGE)
// while root re-creates refs/heads and refs/tags. Nothing outside the gear may change.

import { mkdtempSync, rmSync } from "fs";
import * as path from "path";
import { inspectGear, updateGear } from "../../node/gear/lifecycle";
import { makeTestNode, type TestNode } from "./helpers";
import {
  asGear,
  buildAttacker,
  changes,
  fingerprint,
  makeVictimDir,
  plainGear,
  runAttacker,
  startAttacker,
  UNCHANGED,
  type Attacker,
} from "./hostile-helpers";

jest.setTimeout(180_000);

let node: TestNode;
let work: string;
let attackerBin: string;
const attackers: Attacker[] = [];

beforeAll(async () => {
  node = await makeTestNode("hupdate", 63400);
  work = mkdtempSync("/tmp/gt-test-hupdate-work-");
  attackerBin = buildAttacker(node.dir);
});

afterEach(async () => {
  for (const a of attackers.splice(0)) await a.stop();
});

afterAll(async () => {
  for (const a of attackers.splice(0)) await a.stop();
  await node?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** As the gear, in its repo ($1): refs a directory without heads/tags, refs.link a link to $2. */
const RESET_REFS = [
  'cd "$1" || exit 1',
  "if [ -L refs ]; then rm -f refs && mv refs.link refs; fi",
  'rm -rf refs.link && ln -s "$2" refs.link',
  "rmdir refs/heads refs/tags 2>/dev/null",
  "exit 0",
].join("\n");

test("repairing HEAD-turned-directory: the swap for a link to a victim deletes nothing outside", async () => {
  const { uuid, repo } = await plainGear(node, 0);
  const victim = makeVictimDir(work, 2000);
  const before = fingerprint(victim);
  const head = path.join(repo, "HEAD");
  await asGear(node.ctx, uuid, ["/bin/rm", "-f", "--", head]);
  await runAttacker(node.ctx, uuid, attackerBin, ["fill", head, "6000"]);
  const a = await startAttacker(node.ctx, uuid, attackerBin, ["swap-on-delete", head, victim]);
  attackers.push(a);

  await updateGear(node.ctx, { uuid }).catch(() => undefined);

  expect(await a.waitFor("swapped")).toContain("swapped"); // the race happened
  expect(changes(before, fingerprint(victim))).toEqual(UNCHANGED);
  // once the gear stops, a repair puts HEAD back and nothing is left to report
  await a.stop();
  const st = await updateGear(node.ctx, { uuid });
  expect(st.drift.filter((d) => d.field.includes("HEAD"))).toEqual([]);
});

test("re-creating refs/heads and refs/tags while refs/ is swapped with a link: nothing made outside", async () => {
  const { uuid, repo } = await plainGear(node, 1);
  const victim = mkdtempSync(path.join(work, "victim-refs-"));
  // each round the gear puts its pieces back (refs/ a directory without heads/ and tags/, so root makes
  // them again; refs.link a link to the victim), then races the repair
  const ROUNDS = 30;
  let errors = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await asGear(node.ctx, uuid, ["/bin/sh", "-c", RESET_REFS, "sh", repo, victim]);
    const a = await startAttacker(node.ctx, uuid, attackerBin, ["exchange", repo, "refs", "refs.link"]);
    attackers.push(a);
    await updateGear(node.ctx, { uuid }).catch(() => errors++);
    await a.stop();
    attackers.splice(attackers.indexOf(a), 1);
    expect({ round, made: fingerprint(victim) }).toEqual({ round, made: [] });
  }
  // the gear's own mess is its own: a repair without the attacker leaves refs/ as it should be
  await asGear(node.ctx, uuid, ["/bin/sh", "-c", RESET_REFS, "sh", repo, victim]);
  await asGear(node.ctx, uuid, ["/bin/rm", "-f", "--", path.join(repo, "refs.link")]);
  const st = await updateGear(node.ctx, { uuid });
  expect(st.drift.filter((d) => d.field.includes("refs"))).toEqual([]);
  expect((await inspectGear(node.ctx, uuid)).drift).toEqual([]);
  expect(errors).toBeLessThan(ROUNDS);
});
