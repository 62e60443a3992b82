// `geartrain node check`: passes on a clean node, fails (exit 6) on each kind of problem it must find.

import { mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import { createGear, destroyGear } from "../../node/gear/lifecycle";
import { cli, makeTestNode, newUuid, TestNode } from "./helpers";
import type { CheckReport } from "../../node/check";

jest.setTimeout(120_000);

let node: TestNode;
const uuid = newUuid();
beforeAll(async () => {
  node = await makeTestNode("check", 61500);
  await createGear(node.ctx, { uuid, uid: node.uid(1), app: "chk", namespace: "ns", profile: "small" });
});
afterAll(async () => {
  await destroyGear(node.ctx, uuid);
  await node?.cleanup();
});

async function check(): Promise<{ code: number; report: CheckReport }> {
  const r = await cli(node, ["check"]);
  return { code: r.code, report: r.json as CheckReport };
}

test("clean node passes and states what is enforced", async () => {
  const { code, report } = await check();
  expect(report.failures).toEqual([]);
  expect(code).toBe(0);
  expect(report.node).toMatchObject({
    selinux: "unavailable",
    gears: 1,
    cgroup: expect.stringMatching(/^v1 /),
  });
  expect(report.node.disk).toMatch(/^unenforced/);
});

test.each([
  [
    "leftover home without a user",
    () => mkdirSync(path.join(node.config.gearBaseDir, "f".repeat(32))),
    "home ffff",
  ],
  [
    "leftover PAM file",
    () => writeFileSync(path.join(node.config.limitsDir, `84-${"e".repeat(32)}.conf`), "x"),
    "limits 84-eeee",
  ],
  ["leftover cgroup", () => mkdirSync(node.ctx.cgroup.gearDirs("d".repeat(32))[0]), "cgroup dddd"],
  [
    "drifted gear",
    () => writeFileSync(path.join(node.config.gearBaseDir, uuid, ".env/GEARTRAIN_APP_NAME"), "x"),
    `gear ${uuid}`,
  ],
])("%s → exit 6", async (_what, make, failing) => {
  make();
  const { code, report } = await check();
  expect(code).toBe(6);
  expect(report.failures.map((f) => f.check.slice(0, failing.length))).toEqual([failing]);
  // repair for the next case
  const { execFileSync } = await import("child_process");
  execFileSync("rm", [
    "-rf",
    "--",
    path.join(node.config.gearBaseDir, "f".repeat(32)),
    path.join(node.config.limitsDir, `84-${"e".repeat(32)}.conf`),
  ]);
  try {
    execFileSync("rmdir", [node.ctx.cgroup.gearDirs("d".repeat(32))[0]], { stdio: "ignore" });
  } catch {
    /* not made in this case */
  }
  expect((await cli(node, ["gear", "update", uuid])).code).toBe(0);
  expect((await check()).code).toBe(0);
});

test("another node's gear on this machine (its account, its file in the shared limits directory) is not a leftover", async () => {
  const { execFileSync } = await import("child_process");
  const other = newUuid();
  const file = path.join(node.config.limitsDir, `84-${other}.conf`);
  execFileSync("useradd", [
    "-M",
    "-u",
    String(node.uid(2)),
    "-c",
    "Another platform's gear",
    "-d",
    "/nonexistent",
    other,
  ]);
  try {
    writeFileSync(file, "x");
    const { code, report } = await check();
    expect(report.failures).toEqual([]);
    expect(code).toBe(0);
  } finally {
    execFileSync("rm", ["-f", "--", file]);
    execFileSync("userdel", [other]);
  }
});

test("a process of another uid inside a gear's cgroup → exit 6", async () => {
  const { spawn } = await import("child_process");
  const intruder = spawn("sleep", ["60"], { stdio: "ignore" });
  try {
    await node.ctx.cgroup.attach(uuid, intruder.pid!);
    const { code, report } = await check();
    expect(code).toBe(6);
    expect(report.failures).toEqual([
      {
        check: `cgroup ${uuid} pid ${intruder.pid}`,
        ok: false,
        detail: "process of uid 0 inside the gear's cgroup",
      },
    ]);
  } finally {
    intruder.kill("SIGKILL");
    await new Promise((r) => intruder.once("exit", r));
  }
  expect((await check()).code).toBe(0);
});
