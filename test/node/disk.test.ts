// Disk limit via per-gear loop-mounted ext4 images (this kernel has no quota support; the quota path is
// chosen only where the gear filesystem is mounted with usrquota). Loop devices and mounts are cleaned up.

import { execFileSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { createGear, destroyGear, inspectGear, updateGear } from "../../node/gear/lifecycle";
import { runInGear } from "../../node/gear/run-in-gear";
import type { GearState } from "../../node/types";
import { cli, makeTestNode, newUuid, requirePrereqs, TestNode, traces } from "./helpers";

jest.setTimeout(180_000);

const MiB = 2 ** 20;
let node: TestNode;
let loopsBefore: string;
const loops = () =>
  execFileSync("losetup", ["-a"])
    .toString()
    .split("\n")
    .filter((l) => l.includes(node.dir))
    .join("\n");
const mounted = (p: string) =>
  readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === p);

beforeAll(async () => {
  requirePrereqs(["mkfs.ext4", "losetup", "mount", "umount", "resize2fs"]);
  node = await makeTestNode("disk", 61600, {
    disk: { mode: "loop" },
    profiles: {
      tiny: {
        memoryBytes: 64 * MiB,
        swapBytes: 0,
        pids: 64,
        cpuWeight: 25,
        cpuMax: 1,
        diskBytes: 16 * MiB,
        diskFiles: 2048,
      },
      tinier: {
        memoryBytes: 64 * MiB,
        swapBytes: 0,
        pids: 64,
        cpuWeight: 25,
        cpuMax: 1,
        diskBytes: 24 * MiB,
        diskFiles: 2048,
      },
    },
  });
  loopsBefore = loops();
});
afterAll(async () => {
  await node?.cleanup();
  expect(loops()).toBe(loopsBefore);
});

const spec = (uid: number) => ({ uuid: newUuid(), uid, app: "disk", namespace: "ns", profile: "tiny" });

test("loop image: enforced limit read back, writes stop at the limit, neighbour unaffected, grow (online, or offline without CAP_SYS_RESOURCE)", async () => {
  const a = spec(node.uid(1));
  const b = spec(node.uid(2));
  const sa = (await createGear(node.ctx, a)) as GearState;
  await createGear(node.ctx, b);
  const home = path.join(node.config.gearBaseDir, a.uuid);
  expect(mounted(home)).toBe(true);
  expect(sa.disk).toMatchObject({ mode: "loop", enforced: true, limitBytes: 16 * MiB });
  expect(sa.drift).toEqual([]);
  expect((await createGear(node.ctx, a)) as GearState).toMatchObject({ drift: [] }); // idempotent, no second mount
  expect(
    readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter((l) => l.split(" ")[4] === home),
  ).toHaveLength(1);

  const w = await runInGear(node.ctx, a.uuid, [
    "dd",
    "if=/dev/zero",
    "of=app-root/data/big",
    "bs=1M",
    "count=40",
  ]);
  expect(w.code).not.toBe(0);
  expect(w.stderr).toContain("No space left on device");
  const used = Number(
    execFileSync("du", ["-sb", path.join(home, "app-root/data/big")])
      .toString()
      .split("\t")[0],
  );
  expect(used).toBeLessThanOrEqual(16 * MiB);
  const wb = await runInGear(node.ctx, b.uuid, [
    "dd",
    "if=/dev/zero",
    "of=app-root/data/small",
    "bs=1M",
    "count=4",
  ]);
  expect(wb.code).toBe(0);

  const grown = await updateGear(node.ctx, { uuid: a.uuid, profile: "tinier" });
  expect(grown.disk).toMatchObject({ mode: "loop", enforced: true, limitBytes: 24 * MiB });
  expect(grown.drift).toEqual([]);

  await destroyGear(node.ctx, a.uuid);
  await destroyGear(node.ctx, b.uuid);
  expect(mounted(home)).toBe(false);
  expect(traces(node, a.uuid)).toEqual([]);
  expect(loops()).toBe(loopsBefore);
});

test("unmounted by hand: inspect says the limit is not enforced, update re-mounts it", async () => {
  const a = spec(node.uid(3));
  await createGear(node.ctx, a);
  const home = path.join(node.config.gearBaseDir, a.uuid);
  execFileSync("umount", [home]);
  const st = await inspectGear(node.ctx, a.uuid);
  expect(st.disk).toMatchObject({ mode: "loop", enforced: false, limitBytes: null });
  expect(st.drift).toContainEqual({ field: "disk.enforced", expected: "true", actual: "false" });
  const fixed = await updateGear(node.ctx, a.uuid ? { uuid: a.uuid } : {});
  expect(fixed.drift).toEqual([]);
  expect(mounted(home)).toBe(true);
  await destroyGear(node.ctx, a.uuid);
  expect(loops()).toBe(loopsBefore);
});

test.each(["create:cgroup", "create:disk", "create:home"])(
  "loop mode: create after kill -9 at %s converges, no loop leak",
  async (step) => {
    const a = spec(node.uid(10));
    const crashed = await cli(node, ["gear", "create"], JSON.stringify(a), { GEARTRAIN_TEST_CRASH_AT: step });
    expect(crashed.code).toBe(137);
    const again = await cli(node, ["gear", "create"], JSON.stringify(a));
    expect(again.code).toBe(0);
    expect((again.json as GearState).disk.enforced).toBe(true);
    expect((again.json as GearState).drift).toEqual([]);
    expect(existsSync(path.join(node.config.stateDir, "disk", `${a.uuid}.img.tmp`))).toBe(false);
    expect((await cli(node, ["gear", "destroy", a.uuid])).code).toBe(0);
    expect(traces(node, a.uuid)).toEqual([]);
    expect(loops()).toBe(loopsBefore);
  },
);
