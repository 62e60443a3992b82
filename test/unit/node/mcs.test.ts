import { MCS_LABEL_COUNT, mcsCategories, mcsLabel } from "../../../node/host/mcs";

// Figures from the OpenShift v2 reference (§2.1), as oo-get-mcs-level prints them.
test.each([
  [1, "s0:c0,c1"],
  [1000, "s0:c0,c1000"],
  [1023, "s0:c0,c1023"],
  [1024, "s0:c1,c2"],
  [2046, "s0:c2,c3"],
  [6000, "s0:c5,c900"],
  [6999, "s0:c6,c882"],
])("published example: uid %i → %s", (uid, label) => {
  expect(mcsLabel(uid)).toBe(label);
});

test("the closed form is the definition: every uid 1..523776 gets the next pair {i<j} in lexicographic order", () => {
  // Enumerate the definition itself and compare at every uid (this also covers each tier boundary).
  let uid = 0;
  for (let i = 0; i < 1023; i++) {
    for (let j = i + 1; j < 1024; j++) {
      uid++;
      const [a, b] = mcsCategories(uid);
      if (a !== i || b !== j) throw new Error(`uid ${uid}: closed form gives ${a},${b}, expected ${i},${j}`);
    }
  }
  expect(uid).toBe(MCS_LABEL_COUNT);
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
