// UID reservation against a real private PostgreSQL: no duplicate across broker processes, release returns
// a UID to the pool, and the pool's edges (exhausted district, a chosen UID, a UID a gear holds).

import { districts } from "../../../services/broker/store";
import { newId } from "../../../services/broker/store/secrets";
import { runScript, startStore, stopStore, type StoreFixture } from "./helpers";

jest.setTimeout(120_000);

let f: StoreFixture;
beforeAll(async () => {
  f = await startStore();
});
afterAll(() => stopStore(f));

test("two broker processes reserving 50 UIDs each at once get 100 distinct UIDs of the district", async () => {
  const d = await f.db.tx((q) =>
    districts.createDistrict(q, { name: "d-two-procs", profile: "small", uidCount: 6000 }),
  );
  const input = (prefix: string) => ({ connection: f.connection, districtId: d.id, count: 50, prefix });
  const [a, b] = await Promise.all([
    runScript<number[]>("uid-worker.ts", input("a")),
    runScript<number[]>("uid-worker.ts", input("b")),
  ]);
  expect(a).toHaveLength(50);
  expect(b).toHaveLength(50);
  const all = [...a, ...b];
  expect(new Set(all).size).toBe(100);
  for (const uid of all) {
    expect(uid).toBeGreaterThanOrEqual(1000);
    expect(uid).toBeLessThanOrEqual(6999);
  }
  const reserved = await districts.listReservedUids(f.db, d.id);
  expect(reserved.map((r) => r.uid).sort()).toEqual([...all].sort());
  expect((await districts.getDistrict(f.db, d.id))!.availableUids).toBe(6000 - 100);
});

test("release returns a UID to the pool, behind every fresh one; re-reserving for the same holder is idempotent", async () => {
  const d = await f.db.tx((q) =>
    districts.createDistrict(q, { name: "d-release", profile: "small", firstUid: 2000, uidCount: 3 }),
  );
  const g1 = newId();
  const u1 = await districts.reserveUid(f.db, d.id, g1);
  expect(await districts.reserveUid(f.db, d.id, g1)).toBe(u1);
  expect(await districts.releaseUid(f.db, d.id, u1)).toBe(true);
  expect(await districts.releaseUid(f.db, d.id, u1)).toBe(false);
  // the two fresh UIDs come first, then the released one
  const next = [
    await districts.reserveUid(f.db, d.id, newId()),
    await districts.reserveUid(f.db, d.id, newId()),
  ];
  expect(next).not.toContain(u1);
  expect(await districts.reserveUid(f.db, d.id, newId())).toBe(u1);
  await expect(districts.reserveUid(f.db, d.id, newId())).rejects.toMatchObject({
    kind: "unavailable",
    message: expect.stringMatching(/no free UID/),
  });
  // releasing by holder (an undo that lost its data in a crash)
  const holder = (await districts.listReservedUids(f.db, d.id))[0];
  expect(await districts.releaseUidsOf(f.db, holder.holder)).toEqual([holder.uid]);
  expect(await districts.reserveUid(f.db, d.id, "chosen", { uid: holder.uid })).toBe(holder.uid);
  await expect(districts.reserveUid(f.db, d.id, "again", { uid: holder.uid })).rejects.toMatchObject({
    kind: "conflict",
  });
});

test("capacity: add and remove UIDs at the top of the block", async () => {
  const d = await f.db.tx((q) =>
    districts.createDistrict(q, { name: "d-cap", profile: "small", firstUid: 3000, uidCount: 2 }),
  );
  const grown = await f.db.tx((q) => districts.addDistrictCapacity(q, d.id, 3));
  expect([grown.uidCount, grown.availableUids]).toEqual([5, 5]);
  const h = await districts.reserveUid(f.db, d.id, "top", { uid: 3004 });
  expect(h).toBe(3004);
  await expect(f.db.tx((q) => districts.removeDistrictCapacity(q, d.id, 2))).rejects.toMatchObject({
    kind: "conflict",
  });
  expect((await districts.getDistrict(f.db, d.id))!.uidCount).toBe(5);
  await districts.releaseUid(f.db, d.id, 3004);
  const shrunk = await f.db.tx((q) => districts.removeDistrictCapacity(q, d.id, 2));
  expect([shrunk.uidCount, shrunk.availableUids]).toEqual([3, 3]);
});

test("bad input names the field and writes nothing", async () => {
  await expect(districts.createDistrict(f.db, { name: "bad name!", profile: "small" })).rejects.toMatchObject(
    {
      kind: "invalid",
      field: "name",
    },
  );
  await expect(
    districts.createDistrict(f.db, { name: "d-bad", profile: "huge" as "small" }),
  ).rejects.toMatchObject({ field: "profile" });
  await expect(
    districts.createDistrict(f.db, { name: "d-bad", profile: "small", firstUid: 10 }),
  ).rejects.toMatchObject({
    field: "first_uid",
  });
  await expect(districts.reserveUid(f.db, "nope", "h")).rejects.toMatchObject({ field: "district_id" });
  await expect(districts.reserveUid(f.db, newId(), "bad holder")).rejects.toMatchObject({ field: "holder" });
  expect(await districts.getDistrictByName(f.db, "d-bad")).toBeNull();
});
