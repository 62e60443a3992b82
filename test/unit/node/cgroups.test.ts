// cgroup logic without a kernel: limits → files (v1 and v2), hierarchy detection from mountinfo, the gear
// group layout, and the drivers writing into temp directories laid out like /sys/fs/cgroup.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "fs";
import * as os from "os";
import * as path from "path";
import { chooseHierarchy, parseMountInfo } from "../../../node/host/cgroups/detect";
import { CgroupV1, CgroupV2 } from "../../../node/host/cgroups/driver";
import { gearGroupName, uuidOfGroupName } from "../../../node/host/cgroups/layout";
import { v1Files, v2Files, weightToShares } from "../../../node/host/cgroups/limits";
import { defaultConfig } from "../../../node/config";

const small = defaultConfig().profiles.small;

test("CPU contract: weight 25 vs default 100 (v2) = shares 256 vs 1024 (v1) = 20%", () => {
  expect(weightToShares(25)).toBe(256);
  expect(weightToShares(100)).toBe(1024);
  expect(25 / (25 + 100)).toBeCloseTo(0.2);
  expect(256 / (256 + 1024)).toBeCloseTo(0.2);
  // weights are relative among siblings; each gear group is a sibling of the host's default-weight entities:
  // 8 busy gears on one CPU leave a host process 1024 / (1024 + 8 × 256) = 1/3 of it
  expect(1024 / (1024 + 8 * weightToShares(25))).toBeCloseTo(1 / 3);
});

test("layout: a gear group is <rootName>-<uuid>; other top-level names are not gears", () => {
  const uuid = "0123456789abcdef0123456789abcdef";
  expect(gearGroupName("geartrain", uuid)).toBe(`geartrain-${uuid}`);
  expect(uuidOfGroupName("geartrain", `geartrain-${uuid}`)).toBe(uuid);
  for (const other of ["geartrain", "system.slice", `geartrain-x-${uuid}`, `gt-${uuid}`, "geartrain-ABC"])
    expect([other, uuidOfGroupName("geartrain", other)]).toEqual([other, null]);
  // a root name that prefixes another one's (a, a-b) never claims its groups: the rest must be a uuid
  expect(uuidOfGroupName("a", `a-b-${uuid}`)).toBeNull();
});

test("v1 files for the small profile", () => {
  expect(v1Files(small)).toEqual([
    { controller: "cpu", file: "cpu.shares", value: "256" },
    { controller: "cpu", file: "cpu.cfs_period_us", value: "100000" },
    { controller: "cpu", file: "cpu.cfs_quota_us", value: "200000" },
    { controller: "memory", file: "memory.limit_in_bytes", value: "536870912" },
    { controller: "memory", file: "memory.memsw.limit_in_bytes", value: "641728512" },
    { controller: "pids", file: "pids.max", value: "250" },
  ]);
  expect(v1Files({ ...small, cpuMax: null })[2].value).toBe("-1");
});

test("v2 files for the small profile", () => {
  expect(v2Files(small).map((f) => [f.file, f.value])).toEqual([
    ["cpu.weight", "25"],
    ["cpu.max", "200000 100000"],
    ["memory.max", "536870912"],
    ["memory.swap.max", "104857600"],
    ["pids.max", "250"],
  ]);
  expect(v2Files({ ...small, cpuMax: null })[1].value).toBe("max 100000");
});

const HYBRID = `
22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 22 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
35 30 0:31 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer
36 30 0:32 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`;
const COMBINED = `31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
35 30 0:31 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer`;
const PURE_V2 = `25 1 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate`;

test("detect: hybrid host with v1 controllers → v1 (unified has no controllers)", () => {
  const h = chooseHierarchy(parseMountInfo(HYBRID), "auto", () => ["hugetlb"]);
  expect(h).toEqual({
    version: "v1",
    mounts: {
      cpu: "/sys/fs/cgroup/cpu",
      cpuacct: "/sys/fs/cgroup/cpuacct",
      memory: "/sys/fs/cgroup/memory",
      pids: "/sys/fs/cgroup/pids",
      freezer: "/sys/fs/cgroup/freezer",
    },
  });
});

test("detect: combined cpu,cpuacct mount; pure v2; forced versions; nothing usable", () => {
  const c = chooseHierarchy(parseMountInfo(COMBINED), "auto", () => []);
  expect(c).toMatchObject({
    version: "v1",
    mounts: { cpu: "/sys/fs/cgroup/cpu,cpuacct", cpuacct: "/sys/fs/cgroup/cpu,cpuacct" },
  });
  expect(
    chooseHierarchy(parseMountInfo(PURE_V2), "auto", () => ["cpuset", "cpu", "io", "memory", "pids"]),
  ).toEqual({
    version: "v2",
    mount: "/sys/fs/cgroup",
  });
  expect(chooseHierarchy(parseMountInfo(HYBRID), "v2", () => ["hugetlb"])).toEqual({
    error: expect.stringContaining("no usable cgroup"),
  });
  expect(chooseHierarchy(parseMountInfo(PURE_V2), "v1", () => ["cpu", "memory", "pids"])).toHaveProperty(
    "error",
  );
});

const fakeRoots: string[] = [];
afterAll(() => {
  for (const root of fakeRoots) rmSync(root, { recursive: true, force: true });
});

function fakeCgroup2(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "gt-cg2-"));
  fakeRoots.push(root);
  writeFileSync(path.join(root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
  writeFileSync(path.join(root, "cgroup.subtree_control"), "");
  writeFileSync(path.join(root, "cgroup.procs"), "1\n");
  return root;
}

test("v2 driver writes the limit files and enables the controllers at the hierarchy root", async () => {
  const root = fakeCgroup2();
  const d = new CgroupV2(root, "geartrain");
  const uuid = "0123456789abcdef0123456789abcdef";
  await d.ensureGear(uuid, small);
  const g = path.join(root, `geartrain-${uuid}`);
  const read = (f: string) => readFileSync(path.join(g, f), "utf8");
  expect(read("cpu.weight")).toBe("25");
  expect(read("cpu.max")).toBe("200000 100000");
  expect(read("memory.max")).toBe("536870912");
  expect(read("memory.swap.max")).toBe("104857600");
  expect(read("pids.max")).toBe("250");
  // the gear group sits directly under the hierarchy root: no Geartrain group in between
  expect(readFileSync(path.join(root, "cgroup.subtree_control"), "utf8")).toBe("cpu memory pids");
  expect(existsSync(path.join(root, "geartrain"))).toBe(false);
  expect(await d.readGear(uuid)).toEqual({
    "unified/cpu.weight": "25",
    "unified/cpu.max": "200000 100000",
    "unified/memory.max": "536870912",
    "unified/memory.swap.max": "104857600",
    "unified/pids.max": "250",
  });
  // idempotent, and an update rewrites the values
  await d.ensureGear(uuid, { ...small, memoryBytes: 2 ** 30, cpuMax: null, cpuWeight: 50 });
  expect(read("memory.max")).toBe(String(2 ** 30));
  expect(read("cpu.max")).toBe("max 100000");
  expect(read("cpu.weight")).toBe("50");
  expect(d.procsFiles(uuid)).toEqual([path.join(g, "cgroup.procs")]);
  expect(await d.listGears()).toEqual([uuid]);
  expect(await d.gearExists(uuid)).toBe(true);
});

test("v2 driver: procs, freeze, pids.max, cpu usage, oom kills, removal", async () => {
  const root = fakeCgroup2();
  const d = new CgroupV2(root, "geartrain");
  const uuid = "fedcba9876543210fedcba9876543210";
  await d.ensureGear(uuid, small);
  const g = path.join(root, `geartrain-${uuid}`);
  writeFileSync(path.join(g, "cgroup.procs"), "12\n7\n");
  expect(await d.pids(uuid)).toEqual([7, 12]);
  writeFileSync(path.join(g, "cgroup.events"), "populated 1\nfrozen 1\n");
  await d.freeze(uuid, true);
  expect(readFileSync(path.join(g, "cgroup.freeze"), "utf8")).toBe("1");
  await d.freeze(uuid, false);
  expect(readFileSync(path.join(g, "cgroup.freeze"), "utf8")).toBe("0");
  await d.setPidsMax(uuid, "0");
  expect(readFileSync(path.join(g, "pids.max"), "utf8")).toBe("0");
  writeFileSync(path.join(g, "cpu.stat"), "usage_usec 1500\nuser_usec 1000\n");
  expect(await d.cpuUsageNs(uuid)).toBe(1_500_000);
  writeFileSync(path.join(g, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  expect(await d.oomKills(uuid)).toBe(1);
  writeFileSync(path.join(g, "cgroup.procs"), "");
  await d.removeGear(uuid);
  expect(existsSync(g)).toBe(false);
  await d.removeGear(uuid); // already gone is fine
  mkdirSync(g);
  expect(await d.listGears()).toEqual([uuid]);
});

test("v2 driver on a kernel without swap accounting: memory.swap.max is not invented", async () => {
  const root = fakeCgroup2();
  const d = new CgroupV2(root, "geartrain");
  const uuid = "00000000000000000000000000000001";
  const g = path.join(root, `geartrain-${uuid}`);
  mkdirSync(g, { recursive: true });
  writeFileSync(path.join(g, "cgroup.type"), "domain\n"); // looks like a real cgroupfs dir
  await d.ensureGear(uuid, small);
  expect(existsSync(path.join(g, "memory.swap.max"))).toBe(false);
  expect((await d.readGear(uuid))["unified/memory.swap.max"]).toBeNull();
  expect(readFileSync(path.join(g, "memory.max"), "utf8")).toBe("536870912");
});

test("v2 driver: a gear in the old layout is listed, reported and migrated; the old root goes with the last", async () => {
  const root = fakeCgroup2();
  const d = new CgroupV2(root, "geartrain");
  const [a, b] = ["a".repeat(32), "b".repeat(32)];
  for (const u of [a, b]) {
    mkdirSync(path.join(root, "geartrain", u), { recursive: true });
    writeFileSync(path.join(root, "geartrain", u, "cgroup.procs"), u === a ? "7\n12\n" : "");
  }
  mkdirSync(path.join(root, "system.slice")); // not ours: never listed
  expect(await d.listGears()).toEqual([a, b]);
  expect(await d.gearExists(a)).toBe(true);
  expect(await d.pids(a)).toEqual([7, 12]);
  expect(await d.legacyGroups(a)).toEqual([path.join(root, "geartrain", a)]);
  await d.setPidsMax(a, "0"); // the old group is still the gear's for killing
  expect(readFileSync(path.join(root, "geartrain", a, "pids.max"), "utf8")).toBe("0");

  await d.ensureGear(a, small);
  await d.migrateLegacy(a);
  // the processes were written into the new group (a plain file keeps the last), the old group is gone
  expect(readFileSync(path.join(root, `geartrain-${a}`, "cgroup.procs"), "utf8")).toBe("12");
  expect(await d.legacyGroups(a)).toEqual([]);
  expect(existsSync(path.join(root, "geartrain"))).toBe(true); // b still lives there
  await d.migrateLegacy(a); // idempotent
  await d.ensureGear(b, small);
  await d.migrateLegacy(b);
  expect(existsSync(path.join(root, "geartrain"))).toBe(false);
  expect(await d.listGears()).toEqual([a, b]);
});

test("v1 driver: one group per distinct mount, directly under it; both layouts listed", async () => {
  const top = mkdtempSync(path.join(os.tmpdir(), "gt-cg1-"));
  fakeRoots.push(top);
  const m = (n: string) => path.join(top, n);
  const d = new CgroupV1(
    {
      cpu: m("cpu,cpuacct"),
      cpuacct: m("cpu,cpuacct"),
      memory: m("memory"),
      pids: m("pids"),
      freezer: m("freezer"),
    },
    "geartrain",
  );
  const [a, b] = ["a".repeat(32), "b".repeat(32)];
  expect(d.hierarchyDirs()).toEqual([m("cpu,cpuacct"), m("memory"), m("pids"), m("freezer")]);
  expect(d.gearDirs(a)).toEqual(d.hierarchyDirs().map((h) => path.join(h, `geartrain-${a}`)));
  expect(d.legacyRootDirs()).toEqual(d.hierarchyDirs().map((h) => path.join(h, "geartrain")));
  await d.ensureGear(a, small);
  expect(readFileSync(path.join(m("cpu,cpuacct"), `geartrain-${a}`, "cpu.shares"), "utf8")).toBe("256");
  mkdirSync(path.join(m("memory"), "geartrain", b), { recursive: true });
  mkdirSync(path.join(m("pids"), "geartrain-not-a-gear"));
  expect(await d.listGears()).toEqual([a, b]);
  expect(await d.legacyGroups(a)).toEqual([]);
  expect(await d.legacyGroups(b)).toEqual([path.join(m("memory"), "geartrain", b)]);
});
