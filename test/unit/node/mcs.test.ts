import { MCS_LABEL_COUNT, mcsCategories, mcsCategoriesLoop, mcsLabel } from "../../../node/host/mcs";

test.each([
  [1, "s0:c0,c1"],
  [1000, "s0:c0,c1000"],
  [1023, "s0:c0,c1023"],
  [1024, "s0:c1,c2"],
  [2046, "s0:c2,c3"],
  [6000, "s0:c5,c900"],
  [6999, "s0:c6,c882"],
])("published example: uid %i → %s (closed and loop forms)", (uid, label) => {
  expect(mcsLabel(uid)).toBe(label);
  const [i, j] = mcsCategoriesLoop(uid);
  expect(`s0:c${i},c${j}`).toBe(label);
});

test("closed form equals loop form on 1..30000, at every tier boundary, and at the ends", () => {
  const uids: number[] = [];
  for (let u = 1; u <= 30000; u++) uids.push(u);
  let start = 1;
  for (let tier = 0; tier < 1023; tier++) {
    uids.push(start - 1, start, start + 1);
    start += 1023 - tier;
  }
  uids.push(MCS_LABEL_COUNT - 1, MCS_LABEL_COUNT);
  for (const u of uids.filter((x) => x >= 1 && x <= MCS_LABEL_COUNT)) {
    const a = mcsCategories(u);
    const b = mcsCategoriesLoop(u);
    if (a[0] !== b[0] || a[1] !== b[1]) throw new Error(`uid ${u}: closed ${a} loop ${b}`);
  }
  expect(mcsLabel(MCS_LABEL_COUNT)).toBe("s0:c1022,c1023");
});

test("labels are unique and pairs are ordered i < j", () => {
  const seen = new Set<string>();
  for (let u = 1; u <= 20000; u++) {
    const [i, j] = mcsCategories(u);
    expect(i < j).toBe(true);
    seen.add(`${i},${j}`);
  }
  expect(seen.size).toBe(20000);
});

test("out of range uids are refused", () => {
  expect(() => mcsLabel(0)).toThrow(RangeError);
  expect(() => mcsLabel(MCS_LABEL_COUNT + 1)).toThrow(RangeError);
  expect(() => mcsLabel(1.5)).toThrow(RangeError);
});
