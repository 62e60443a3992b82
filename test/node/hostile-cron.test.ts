// Hostile gear, finding 6 (issue 8): cgroup escape through the gear's own crontab. `crontab -` worked for
// gear users, and the system cron (which the cron cartridge needs) runs a user's crontab in its own cgroup,
// outside the gear's limits; `at` likewise. The node closes the path: every gear is listed in
// /etc/cron.deny (and in /etc/at.deny when at is installed), and a crontab or at job the gear has anyway
// (from before the defence) is drift that update removes. Here a gear process tries it with the real
// Debian crontab (and at, when installed). UIDs 63700-63799.

import { execFileSync } from "child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { createGear, destroyGear, inspectGear, updateGear } from "../../node/gear/lifecycle";
import { runInGear } from "../../node/gear/run-in-gear";
import { makeTestNode, newUuid, type TestNode } from "./helpers";

jest.setTimeout(120_000);

const CRON_DENY = "/etc/cron.deny";
const CRONTABS = "/var/spool/cron/crontabs";
const ATJOBS = "/var/spool/cron/atjobs";

let node: TestNode;
let denyBefore: string | null;

function readOrNull(file: string): string | null {
  return existsSync(file) ? readFileSync(file, "utf8") : null;
}

beforeAll(async () => {
  if (!existsSync("/usr/bin/crontab") || !existsSync(CRONTABS))
    throw new Error("the cron cartridge's system cron is missing. Fix: apt-get install -y cron");
  denyBefore = readOrNull(CRON_DENY);
  node = await makeTestNode("hcron", 63700);
});

afterAll(async () => {
  await node?.cleanup();
  // the gears' lines are gone with them: the file is as it was (an empty deny file is no file)
  expect(readOrNull(CRON_DENY)).toBe(denyBefore);
});

async function gear(i: number) {
  const uuid = newUuid();
  await createGear(
    node.ctx,
    { uuid, uid: node.uid(i), app: "cronhack", namespace: "dev" },
    { inspect: false },
  );
  return { uuid, uid: node.uid(i) };
}

test("a gear's `crontab -` is refused and leaves no crontab", async () => {
  const g = await gear(1);
  const job = "* * * * * /bin/sh -c 'cat /proc/self/cgroup > /tmp/escaped'\n";
  const r = await runInGear(node.ctx, g.uuid, ["/usr/bin/crontab", "-"], { input: job });
  expect([r.code, r.stderr]).toEqual([1, expect.stringContaining("not allowed to use this program")]);
  expect(existsSync(path.join(CRONTABS, g.uuid))).toBe(false);
  // listing or removing is refused the same way: the gear has no way to the cron daemon
  const list = await runInGear(node.ctx, g.uuid, ["/usr/bin/crontab", "-l"]);
  expect(list.code).toBe(1);
  expect(readFileSync(CRON_DENY, "utf8").split("\n")).toContain(g.uuid);
  expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([]);
  await destroyGear(node.ctx, g.uuid);
  expect((readOrNull(CRON_DENY) ?? "").split("\n")).not.toContain(g.uuid);
});

test("a gear's `at` is refused (or at is not installed) and leaves no job", async () => {
  const g = await gear(2);
  const r = await runInGear(node.ctx, g.uuid, ["/bin/sh", "-c", "echo id | at now + 5 minutes"]);
  expect(r.code).not.toBe(0);
  if (existsSync("/usr/bin/at")) expect(r.stderr).toMatch(/not allowed|permission/i);
  else expect(r.stderr).toMatch(/at: not found/);
  const jobs = existsSync(ATJOBS)
    ? readdirSync(ATJOBS).filter((n) => lstatSync(path.join(ATJOBS, n)).uid === g.uid)
    : [];
  expect(jobs).toEqual([]);
  await destroyGear(node.ctx, g.uuid);
});

test("a crontab the gear has from before the defence is drift; update removes it", async () => {
  const g = await gear(3);
  // what `crontab -` made for the gear on an older node: <spool>/<user>, the user's, group crontab, 0600
  const tab = path.join(CRONTABS, g.uuid);
  writeFileSync(tab, "* * * * * /bin/true\n", { mode: 0o600 });
  execFileSync("chown", [`${g.uid}:crontab`, tab]);
  try {
    const st = await inspectGear(node.ctx, g.uuid);
    expect(st.drift).toContainEqual({ field: "crontab", expected: "none", actual: tab });
    await updateGear(node.ctx, { uuid: g.uuid });
    expect(existsSync(tab)).toBe(false);
    expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([]);
  } finally {
    if (existsSync(tab)) execFileSync("rm", ["-f", tab]);
  }
  await destroyGear(node.ctx, g.uuid);
});
