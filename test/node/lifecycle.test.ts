// Gear lifecycle on the real host: every operation twice, exact layout, runInGear, and kill -9 at every step.

import { promises as fs, statSync, readFileSync, existsSync } from "fs";
import * as path from "path";
import { createGear, destroyGear, inspectGear, listGears, updateGear } from "../../node/gear/lifecycle";
import { runInGear } from "../../node/gear/run-in-gear";
import type { GearState } from "../../node/types";
import { cli, makeTestNode, newUuid, TestNode, traces } from "./helpers";

jest.setTimeout(120_000);

let node: TestNode;
beforeAll(async () => {
  node = await makeTestNode("life", 61000);
});
afterAll(async () => {
  await node?.cleanup();
});

const spec = (uuid: string, uid: number, extra: Record<string, unknown> = {}) => ({
  uuid,
  uid,
  app: "myapp",
  namespace: "dev",
  profile: "small",
  env: { GREETING: "hello world" },
  ...extra,
});

function modeOwner(p: string): string {
  const st = statSync(p);
  return `${(st.mode & 0o7777).toString(8).padStart(4, "0")} ${st.uid}:${st.gid}`;
}

test("create, inspect, update, destroy: each twice, converging", async () => {
  const uuid = newUuid();
  const uid = node.uid(1);
  const s1 = (await createGear(node.ctx, spec(uuid, uid))) as GearState;
  const s2 = (await createGear(node.ctx, spec(uuid, uid))) as GearState;
  expect(s1.drift).toEqual([]);
  expect(s2.drift).toEqual([]);
  expect(s1.phase).toBe("created");

  // exact home layout: owners and modes (reference §1.4 subset)
  const h = path.join(node.config.gearBaseDir, uuid);
  expect(modeOwner(h)).toBe(`0750 0:${uid}`);
  expect(modeOwner(`${h}/.env`)).toBe(`0750 0:${uid}`);
  expect(modeOwner(`${h}/.ssh`)).toBe(`0750 0:${uid}`);
  expect(modeOwner(`${h}/.tmp`)).toBe(`0000 0:${uid}`);
  expect(modeOwner(`${h}/app-root`)).toBe(`0750 0:${uid}`);
  for (const d of [
    "app-root/data",
    "app-root/logs",
    "app-root/runtime",
    "app-root/runtime/repo",
    "git/myapp.git",
  ]) {
    expect([d, modeOwner(`${h}/${d}`)]).toEqual([d, `0750 ${uid}:${uid}`]);
  }
  expect(readFileSync(`${h}/.env/GEARTRAIN_GEAR_UUID`, "utf8")).toBe(uuid);
  expect(readFileSync(`${h}/.env/GEARTRAIN_GEAR_MEMORY_MB`, "utf8")).toBe("512");
  expect(readFileSync(`${h}/.env/user_vars/GREETING`, "utf8")).toBe("hello world");
  expect(readFileSync(path.join(node.config.limitsDir, `84-${uuid}.conf`), "utf8")).toContain(
    `${uuid} hard nproc 250`,
  );
  const pw = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${uuid}:`));
  expect(pw).toBe(`${uuid}:x:${uid}:${uid}:Geartrain test gear:${h}:/bin/bash`);

  // cgroup values read back from the cgroup files
  expect(s1.cgroup.values).toEqual({
    "cpu/cpu.shares": "256",
    "cpu/cpu.cfs_period_us": "100000",
    "cpu/cpu.cfs_quota_us": "200000",
    "memory/memory.limit_in_bytes": String(512 * 2 ** 20),
    "memory/memory.memsw.limit_in_bytes": String(612 * 2 ** 20),
    "pids/pids.max": "250",
  });
  expect(s1.selinux).toEqual({
    status: "unavailable",
    label: expect.stringMatching(/^s0:c\d+,c\d+$/),
    applied: null,
    mislabelled: null,
  });
  expect(s1.disk).toMatchObject({ mode: "unenforced", enforced: false, limitBytes: null });

  // git: the bare repo is a real one
  const g = await runInGear(node.ctx, uuid, [
    "git",
    "--git-dir",
    `${h}/git/myapp.git`,
    "rev-parse",
    "--is-bare-repository",
  ]);
  expect(g.stdout.trim()).toBe("true");

  const i1 = await inspectGear(node.ctx, uuid);
  const i2 = await inspectGear(node.ctx, uuid);
  expect(i1).toEqual(i2);
  expect(i1.drift).toEqual([]);

  // update: profile and env change, applied to the cgroup and files; twice
  const u1 = await updateGear(node.ctx, { uuid, profile: "medium", env: { GREETING: "bye", OTHER: "x" } });
  const u2 = await updateGear(node.ctx, { uuid, profile: "medium", env: { GREETING: "bye", OTHER: "x" } });
  expect(u1.drift).toEqual([]);
  expect(u2).toEqual(u1);
  expect(u1.cgroup.values["memory/memory.limit_in_bytes"]).toBe(String(2 ** 30));
  expect(u1.cgroup.values["pids/pids.max"]).toBe("2142");
  expect(readFileSync(`${h}/.env/user_vars/GREETING`, "utf8")).toBe("bye");
  expect(readFileSync(`${h}/.env/GEARTRAIN_GEAR_MEMORY_MB`, "utf8")).toBe("1024");
  // and back down (memsw must be lowered after mem on v1)
  const u3 = await updateGear(node.ctx, { uuid, profile: "small", env: {} });
  expect(u3.drift).toEqual([]);
  expect(existsSync(`${h}/.env/user_vars/OTHER`)).toBe(false);

  expect((await listGears(node.ctx)).map((x) => x.uuid)).toContain(uuid);
  const d1 = await destroyGear(node.ctx, uuid);
  const d2 = await destroyGear(node.ctx, uuid);
  expect(d1.destroyed).toBe(true);
  expect(d2.destroyed).toBe(false);
  expect(traces(node, uuid)).toEqual([]);
  expect((await listGears(node.ctx)).map((x) => x.uuid)).not.toContain(uuid);
});

test("runInGear: gear uid/gid only, umask 077, gear env, inside every cgroup, cwd in home", async () => {
  const uuid = newUuid();
  const uid = node.uid(2);
  await createGear(node.ctx, spec(uuid, uid));
  const r = await runInGear(
    node.ctx,
    uuid,
    ["/bin/sh", "-c", 'id -u; id -g; id -G; umask; echo "$GREETING"; pwd; cat /proc/self/cgroup'],
    {
      env: { EXTRA: "1" },
    },
  );
  expect(r.code).toBe(0);
  const lines = r.stdout.split("\n");
  expect(lines.slice(0, 6)).toEqual([
    String(uid),
    String(uid),
    String(uid),
    "0077",
    "hello world",
    path.join(node.config.gearBaseDir, uuid),
  ]);
  for (const c of ["cpu", "cpuacct", "memory", "pids", "freezer"]) {
    expect(r.stdout).toMatch(new RegExp(`^\\d+:${c}:/gt-test-life-${uuid}$`, "m"));
  }
  // real, effective, saved and filesystem ids are all the gear's (no way back to root), one group
  const ids = await runInGear(node.ctx, uuid, ["grep", "-E", "^(Uid|Gid|Groups):", "/proc/self/status"]);
  expect(ids.stdout.replace(/[ \t]+\n/g, "\n")).toBe(
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\nGroups:\t${uid}\n`,
  );
  // a file created by the gear is private (umask 077)
  await runInGear(node.ctx, uuid, ["touch", "app-root/data/f"]);
  expect(modeOwner(path.join(node.config.gearBaseDir, uuid, "app-root/data/f"))).toBe(`0600 ${uid}:${uid}`);
  // the exit code and stderr come back
  const bad = await runInGear(node.ctx, uuid, ["/bin/sh", "-c", "echo oops >&2; exit 7"]);
  expect([bad.code, bad.stderr]).toEqual([7, "oops\n"]);
  // argv is never a shell string: metacharacters arrive verbatim
  const lit = await runInGear(node.ctx, uuid, ["printf", "%s", "$(id); rm -rf / `x`"]);
  expect(lit.stdout).toBe("$(id); rm -rf / `x`");
  await destroyGear(node.ctx, uuid);
});

test("destroy kills every gear process first, including forks outside the original parent", async () => {
  const uuid = newUuid();
  await createGear(node.ctx, spec(uuid, node.uid(3)));
  const r = await runInGear(node.ctx, uuid, [
    "/bin/sh",
    "-c",
    "(setsid sleep 1000 &) ; (sleep 1000 &) ; nohup sleep 1000 >/dev/null 2>&1 & echo started",
  ]);
  expect(r.stdout.trim()).toBe("started");
  expect((await inspectGear(node.ctx, uuid)).processes.length).toBeGreaterThanOrEqual(3);
  const d = await destroyGear(node.ctx, uuid);
  expect(d.killed).toBeGreaterThanOrEqual(3);
  expect(traces(node, uuid)).toEqual([]);
  const ps = readFileSync("/proc/self/status", "utf8"); // sanity: we are alive
  expect(ps).toContain("Name:");
});

const CREATE_STEPS = [
  "create:marker",
  "create:group",
  "create:user",
  "create:cgroup",
  "create:disk",
  "create:home",
  "create:limits",
];

test.each(CREATE_STEPS)("create after kill -9 at %s converges (CLI)", async (step) => {
  const uuid = newUuid();
  const uid = node.uid(10 + CREATE_STEPS.indexOf(step));
  const req = JSON.stringify(spec(uuid, uid));
  const crashed = await cli(node, ["gear", "create"], req, { GEARTRAIN_TEST_CRASH_AT: step });
  expect(crashed.code).toBe(137); // SIGKILL
  const partial = await cli(node, ["gear", "inspect", uuid]);
  // a partial create is reported as such (exit 6 = drift), never as a clean gear
  expect(partial.code).toBe(6);
  expect((partial.json as GearState).phase).toBe("creating");
  const again = await cli(node, ["gear", "create"], req);
  expect([again.code, again.stderr]).toEqual([0, ""]);
  expect((again.json as GearState).drift).toEqual([]);
  const twice = await cli(node, ["gear", "create"], req);
  expect(twice.code).toBe(0);
  const gone = await cli(node, ["gear", "destroy", uuid]);
  expect(gone.code).toBe(0);
  expect(traces(node, uuid)).toEqual([]);
});

test.each(["destroy:killed", "destroy:account", "destroy:home"])(
  "destroy after kill -9 at %s completes",
  async (step) => {
    const uuid = newUuid();
    await createGear(node.ctx, spec(uuid, node.uid(20)));
    await runInGear(node.ctx, uuid, ["/bin/sh", "-c", "sleep 1000 >/dev/null 2>&1 &"]);
    const crashed = await cli(node, ["gear", "destroy", uuid], undefined, { GEARTRAIN_TEST_CRASH_AT: step });
    expect(crashed.code).toBe(137);
    expect(traces(node, uuid).length).toBeGreaterThan(0);
    // a half-destroyed gear cannot be re-created by accident
    const create = await cli(node, ["gear", "create"], JSON.stringify(spec(uuid, node.uid(20))));
    expect(create.code).toBe(5);
    const done = await cli(node, ["gear", "destroy", uuid]);
    expect(done.code).toBe(0);
    expect(traces(node, uuid)).toEqual([]);
  },
);

test("list shows gears with their phase; CLI list/inspect JSON", async () => {
  const a = newUuid();
  await createGear(node.ctx, spec(a, node.uid(30)));
  const l = await cli(node, ["gear", "list"]);
  expect(l.code).toBe(0);
  expect(l.json).toContainEqual({
    uuid: a,
    uid: node.uid(30),
    phase: "created",
    app: "myapp",
    namespace: "dev",
    appUuid: null,
    profile: "small",
  });
  const i = await cli(node, ["gear", "inspect", a]);
  expect(i.code).toBe(0);
  expect((i.json as GearState).uuid).toBe(a);
  await fs.rm(path.join(node.config.gearBaseDir, a, ".ssh"), { recursive: true });
  expect((await cli(node, ["gear", "inspect", a])).code).toBe(6);
  expect((await cli(node, ["gear", "update", a])).code).toBe(0);
  expect((await cli(node, ["gear", "inspect", a])).code).toBe(0);
  expect((await cli(node, ["gear", "destroy", a])).code).toBe(0);
  expect((await cli(node, ["gear", "inspect", a])).code).toBe(4);
});
