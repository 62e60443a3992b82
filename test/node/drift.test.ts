// Drift: a hand change is reported exactly (and nothing else), update repairs it, inspect is clean again.

import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "fs";
import * as path from "path";
import { createGear, destroyGear, inspectGear, updateGear } from "../../node/gear/lifecycle";
import { spawnInGear } from "../../node/gear/run-in-gear";
import { cli, makeTestNode, newUuid, TestNode } from "./helpers";
import { execFileSync } from "child_process";

jest.setTimeout(120_000);

let node: TestNode;
const uuid = newUuid();
let home: string;
beforeAll(async () => {
  node = await makeTestNode("drift", 61300);
  await createGear(node.ctx, { uuid, uid: node.uid(1), app: "drifty", namespace: "ns", profile: "small" });
  home = path.join(node.config.gearBaseDir, uuid);
});
afterAll(async () => {
  if (uuid) await destroyGear(node.ctx, uuid);
  await node?.cleanup();
});

const memDir = () => node.ctx.cgroup.gearDirs(uuid).find((d) => d.includes("/memory/"))!;
const cpuDir = () => node.ctx.cgroup.gearDirs(uuid).find((d) => d.includes("/cpu/"))!;

const cases: [string, () => void, { field: string; expected: string; actual: string }[]][] = [
  [
    "a mode",
    () => chmodSync(path.join(home, "app-root/data"), 0o777),
    [{ field: "path:app-root/data.mode", expected: "0750", actual: "0777" }],
  ],
  [
    "an owner",
    () => chownSync(path.join(home, ".ssh"), 61301, 61301),
    [{ field: "path:.ssh.owner", expected: "0:61301", actual: "61301:61301" }],
  ],
  [
    "the memory limit",
    () => writeFileSync(path.join(memDir(), "memory.limit_in_bytes"), String(256 * 2 ** 20)),
    [
      {
        field: "cgroup:memory/memory.limit_in_bytes",
        expected: String(512 * 2 ** 20),
        actual: String(256 * 2 ** 20),
      },
    ],
  ],
  [
    "the CPU weight",
    () => writeFileSync(path.join(cpuDir(), "cpu.shares"), "1024"),
    [{ field: "cgroup:cpu/cpu.shares", expected: "256", actual: "1024" }],
  ],
  [
    "an env file",
    () => writeFileSync(path.join(home, ".env/GEARTRAIN_APP_NAME"), "evil"),
    [{ field: "path:.env/GEARTRAIN_APP_NAME.content", expected: "drifty", actual: "evil" }],
  ],
  [
    "a removed directory",
    () => execFileSync("rm", ["-rf", "--", path.join(home, "app-root/logs")]),
    [{ field: "path:app-root/logs", expected: "dir", actual: "missing" }],
  ],
  [
    "the PAM limits file",
    () => writeFileSync(path.join(node.config.limitsDir, `84-${uuid}.conf`), `${uuid} hard nproc 9999\n`),
    [
      {
        field: "limits",
        expected: expect.stringContaining("hard nproc 250") as unknown as string,
        actual: `${uuid} hard nproc 9999\n`,
      },
    ],
  ],
];

test.each(cases)(
  "hand-changed %s: inspect reports exactly that, update repairs",
  async (_what, change, expected) => {
    expect((await inspectGear(node.ctx, uuid)).drift).toEqual([]);
    change();
    expect((await inspectGear(node.ctx, uuid)).drift).toEqual(expected);
    const cliInspect = await cli(node, ["gear", "inspect", uuid]);
    expect(cliInspect.code).toBe(6);
    const repaired = await updateGear(node.ctx, { uuid });
    expect(repaired.drift).toEqual([]);
    expect((await inspectGear(node.ctx, uuid)).drift).toEqual([]);
  },
);

test("a gear process outside its cgroup is drift; update moves it in", async () => {
  // started as the gear's uid without going through runInGear (e.g. by a broken tool)
  const p = await spawnInGear(node.ctx, uuid, ["sleep", "60"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 200));
  for (const f of ["cpu", "cpuacct", "memory", "pids", "freezer"]) {
    writeFileSync(`/sys/fs/cgroup/${f}/cgroup.procs`, String(p.pid));
  }
  const st = await inspectGear(node.ctx, uuid);
  expect(st.drift).toEqual([{ field: `process:${p.pid}`, expected: "in gear cgroup", actual: "outside" }]);
  expect((await cli(node, ["check"])).code).toBe(6);
  expect((await updateGear(node.ctx, { uuid })).drift).toEqual([]);
  expect(readFileSync(`/proc/${p.pid}/cgroup`, "utf8")).toContain(`memory:/gt-test-drift-${uuid}`);
  expect((await cli(node, ["check"])).code).toBe(0);
  p.kill("SIGKILL");
});

test("a gear in the old cgroup layout (under a Geartrain root group) is drift; update moves it out", async () => {
  const cg = node.ctx.cgroup;
  const p = await spawnInGear(node.ctx, uuid, ["sleep", "60"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 200));
  // what an older Geartrain made: <hierarchy>/<rootName>/<uuid>, cgroup.procs delegated to the gear
  const legacy = cg.legacyRootDirs().map((r) => path.join(r, uuid));
  cg.gearDirs(uuid).forEach((d, i) => {
    mkdirSync(legacy[i], { recursive: true });
    chownSync(path.join(legacy[i], "cgroup.procs"), node.uid(1), node.uid(1));
    writeFileSync(path.join(legacy[i], "cgroup.procs"), String(p.pid));
    rmdirSync(d);
  });
  const st = await inspectGear(node.ctx, uuid);
  expect(st.drift).toEqual(
    expect.arrayContaining([
      { field: "cgroup.layout", expected: cg.gearDirs(uuid).join(" "), actual: legacy.join(" ") },
      { field: `process:${p.pid}`, expected: "in gear cgroup", actual: "outside" },
      { field: "cgroup:cpu/cpu.shares", expected: "256", actual: "missing" },
    ]),
  );
  for (const d of st.drift) expect(d.field).toMatch(/^cgroup[:.]|^process:/);
  const check = await cli(node, ["check"]);
  expect(check.code).toBe(6);
  expect((check.json as { failures: { check: string }[] }).failures.map((f) => f.check)).toContain(
    "cgroup layout",
  );
  expect((await updateGear(node.ctx, { uuid })).drift).toEqual([]);
  for (const c of ["cpu", "memory", "pids", "freezer"])
    expect(readFileSync(`/proc/${p.pid}/cgroup`, "utf8")).toContain(`:${c}:/gt-test-drift-${uuid}\n`);
  for (const r of cg.legacyRootDirs()) expect(existsSync(r)).toBe(false);
  expect((await cli(node, ["check"])).code).toBe(0);
  p.kill("SIGKILL");
});

test("a gear that swaps a directory for a symlink cannot make update chown outside its home", async () => {
  const target = path.join(node.dir, "victim");
  writeFileSync(target, "x");
  chmodSync(target, 0o600);
  const repo = path.join(home, "app-root/runtime/repo");
  execFileSync("rm", ["-rf", "--", repo]);
  execFileSync("ln", ["-s", target, repo]);
  expect((await inspectGear(node.ctx, uuid)).drift).toEqual([
    { field: "path:app-root/runtime/repo.type", expected: "dir", actual: "symlink" },
  ]);
  expect((await updateGear(node.ctx, { uuid })).drift).toEqual([]);
  const { execFileSync: x } = await import("child_process");
  expect(x("stat", ["-c", "%u %a", target]).toString().trim()).toBe("0 600");
});
