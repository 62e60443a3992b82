// Issue 8 findings 3 and 4, as the attack: a gear process swaps the root-owned git/<app>.git/config (in a
// directory the gear owns) with something else in a tight loop (renameat2 RENAME_EXCHANGE) while root reads
// it for drift. (3) With a symlink to a root-only file, `gear inspect` must never show that file's content.
// (4) With a FIFO (or a link to /dev/zero), `node check` must finish in bounded time, with bounded memory,
// and still check everything else; the same when the gear's own cartridge status hook prints without end.

import { closeSync, constants, existsSync, lstatSync, mkdtempSync, openSync, rmSync } from "fs";
import * as path from "path";
import { installCartridge } from "../../node/cartridge/install";
import { addToRepository } from "../../node/cartridge/repository";
import { checkNode } from "../../node/check";
import { inspectGear } from "../../node/gear/lifecycle";
import { makeTestNode, REPO, type TestNode } from "./helpers";
import {
  asGear,
  buildAttacker,
  makeSecret,
  plainGear,
  startAttacker,
  within,
  type Attacker,
} from "./hostile-helpers";

jest.setTimeout(240_000);

const BOUND_MS = 30_000;

let node: TestNode;
let work: string;
let attackerBin: string;
const attackers: Attacker[] = [];
const fifos: string[] = [];

beforeAll(async () => {
  node = await makeTestNode("hinspect", 63500);
  work = mkdtempSync("/tmp/gt-test-hinspect-work-");
  attackerBin = buildAttacker(node.dir);
});

/** A reader stuck opening a FIFO (the finding) is let go by opening it for writing once. */
function releaseFifos(): void {
  for (const f of fifos) {
    for (const p of [f, path.join(path.dirname(f), "config")]) {
      try {
        if (!lstatSync(p).isFIFO()) continue;
        closeSync(openSync(p, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        /* no reader, or gone */
      }
    }
  }
}

afterEach(async () => {
  for (const a of attackers.splice(0)) await a.stop();
  releaseFifos();
});

afterAll(async () => {
  for (const a of attackers.splice(0)) await a.stop();
  releaseFifos();
  await node?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("inspect never shows a root-only file the gear swaps in for its config", async () => {
  const { uuid, repo } = await plainGear(node, 0);
  const { file, secret } = makeSecret(work);
  await asGear(node.ctx, uuid, ["/bin/ln", "-s", "--", file, path.join(repo, "cfglink")]);
  attackers.push(await startAttacker(node.ctx, uuid, attackerBin, ["exchange", repo, "config", "cfglink"]));

  let leaks = 0;
  let inspected = 0;
  const deadline = Date.now() + 20_000;
  while (inspected < 150 && Date.now() < deadline) {
    const st = await within(BOUND_MS, "gear inspect", inspectGear(node.ctx, uuid));
    inspected++;
    if (JSON.stringify(st).includes(secret)) leaks++;
  }
  expect(inspected).toBeGreaterThan(20);
  expect({ inspected, leaks }).toEqual({ inspected, leaks: 0 });
});

test("node check finishes in bounded time with a FIFO swapped in, and checks the other gears", async () => {
  const benign = await plainGear(node, 1);
  const hostile = await plainGear(node, 2);
  const fifo = path.join(hostile.repo, "cfgfifo");
  await asGear(node.ctx, hostile.uuid, ["/usr/bin/mkfifo", "--", fifo]);
  fifos.push(fifo);
  attackers.push(
    await startAttacker(node.ctx, hostile.uuid, attackerBin, ["exchange", hostile.repo, "config", "cfgfifo"]),
  );

  for (let i = 0; i < 30; i++) {
    const t0 = Date.now();
    const report = await within(BOUND_MS, `node check #${i + 1}`, checkNode(node.ctx));
    expect(Date.now() - t0).toBeLessThan(BOUND_MS);
    const byName = new Map(report.checks.map((c) => [c.check, c]));
    expect(byName.get(`gear ${benign.uuid}`)).toMatchObject({ ok: true, detail: "clean" });
    expect(byName.has(`gear ${hostile.uuid}`)).toBe(true);
    expect(report.checks.some((c) => c.check === "cgroup layout")).toBe(true); // a node-wide check ran too
  }
});

test("inspect reads no unbounded stream: a link to /dev/zero swapped in costs neither time nor memory", async () => {
  const { uuid, repo } = await plainGear(node, 3);
  await asGear(node.ctx, uuid, ["/bin/ln", "-s", "--", "/dev/zero", path.join(repo, "cfgzero")]);
  attackers.push(await startAttacker(node.ctx, uuid, attackerBin, ["exchange", repo, "config", "cfgzero"]));
  const rss0 = process.resourceUsage().maxRSS; // KiB, the peak so far
  for (let i = 0; i < 100; i++) {
    const st = await within(BOUND_MS, "gear inspect", inspectGear(node.ctx, uuid));
    expect(JSON.stringify(st).length).toBeLessThan(1 << 20);
  }
  expect(existsSync(path.join(repo, "cfgzero"))).toBe(true);
  expect((process.resourceUsage().maxRSS - rss0) / 1024).toBeLessThan(256); // MiB
});

test("node check is bounded when the gear's own status hook prints without end", async () => {
  await addToRepository(node.config, path.join(REPO, "test/fixtures/cartridges/minimal"));
  const { uuid } = await plainGear(node, 4);
  await installCartridge(node.ctx, uuid, { name: "minimal" }, { frontend: null });
  // the cartridge directory is the gear's: it can rewrite its own bin/control
  const control = path.join(node.config.gearBaseDir, uuid, "minimal", "bin", "control");
  await asGear(node.ctx, uuid, [
    "/bin/sh",
    "-c",
    'printf "#!/bin/sh\\nexec cat /dev/zero\\n" > "$1"',
    "sh",
    control,
  ]);
  const rss0 = process.resourceUsage().maxRSS;
  const t0 = Date.now();
  const report = await within(BOUND_MS, "node check", checkNode(node.ctx));
  expect(Date.now() - t0).toBeLessThan(BOUND_MS);
  expect(report.checks.find((c) => c.check === `gear ${uuid}`)?.ok).toBe(false);
  expect(JSON.stringify(report).length).toBeLessThan(1 << 20);
  expect((process.resourceUsage().maxRSS - rss0) / 1024).toBeLessThan(256); // MiB
});
