// Placement (services/broker/model/placement.ts): examples of each rule, then properties over generated node
// sets (fast-check): the pick is always eligible, never at its gear limit, avoids the app's nodes when it
// can, does not depend on the input order, and favours emptier nodes.

import fc from "fast-check";
import {
  exclusionOf,
  noNodeMessage,
  pickIndex,
  placeGear,
  rankCandidates,
  seededRandom,
  usage,
  weightAt,
  type PlacementNode,
  type PlacementRequest,
} from "../../../services/broker/model/placement";

const NOW = 1_800_000_000_000;
const D1 = "d".repeat(32);
const D2 = "e".repeat(32);

const node = (identity: string, over: Partial<PlacementNode> = {}): PlacementNode => ({
  identity,
  districtId: D1,
  districtProfile: "small",
  districtActive: true,
  districtFreeUids: 100,
  active: true,
  lastSeen: NOW - 1000,
  profile: "small",
  activeGears: 0,
  maxActiveGears: 10,
  appGears: 0,
  ...over,
});

const req = (over: Partial<PlacementRequest> = {}): PlacementRequest => ({
  profile: "small",
  now: NOW,
  silenceMs: 60_000,
  random: 0.5,
  ...over,
});

describe("eligibility", () => {
  test.each<[string, Partial<PlacementNode>, Partial<PlacementRequest>, string | null]>([
    ["an active responsive node with room", {}, {}, null],
    ["another district than asked", { districtId: D2 }, { districtId: D1 }, "other_district"],
    ["an inactive district", { districtActive: false }, {}, "district_inactive"],
    ["a district of another profile", { districtProfile: "medium" }, {}, "profile_mismatch"],
    ["a node whose facts name another profile", { profile: "large" }, {}, "profile_mismatch"],
    ["a node without facts", { profile: null }, {}, "profile_mismatch"],
    ["a deactivated node", { active: false }, {}, "node_inactive"],
    ["a node never heard from", { lastSeen: null }, {}, "unresponsive"],
    ["a node silent past the limit", { lastSeen: NOW - 60_001 }, {}, "unresponsive"],
    ["a node at its active-gear limit", { activeGears: 10 }, {}, "at_gear_limit"],
    ["a node with no gear limit", { maxActiveGears: 0 }, {}, "at_gear_limit"],
    ["a district with no free UID", { districtFreeUids: 0 }, {}, "no_free_uid"],
  ])("%s", (_name, n, r, want) => {
    expect(exclusionOf(node("n1", n), req(r))).toBe(want);
  });

  test("no eligible node: null with the count of each reason, and origin's message", () => {
    const p = placeGear(
      [node("a", { active: false }), node("b", { activeGears: 10 }), node("c", { activeGears: 12 })],
      req(),
    );
    expect(p).toEqual({ node: null, excluded: { node_inactive: 1, at_gear_limit: 2 } });
    expect(noNodeMessage("small", (p as { excluded: object }).excluded)).toBe(
      "No nodes available for gear size 'small' (2 at gear limit, 1 node inactive)",
    );
    expect(placeGear([], req())).toEqual({ node: null, excluded: {} });
    expect(noNodeMessage("small", {})).toBe("No nodes available for gear size 'small' (no nodes)");
  });
});

describe("preferences", () => {
  test("nodes not hosting the app win over emptier nodes that do", () => {
    const nodes = [node("busy", { activeGears: 9 }), node("empty-but-hosting", { appGears: 1 })];
    for (const random of [0, 0.3, 0.7, 0.999])
      expect(placeGear(nodes, req({ random })).node?.identity).toBe("busy");
  });

  test("when every node hosts the app, those with the fewest of its gears", () => {
    const nodes = [node("two", { appGears: 2 }), node("one", { appGears: 1, activeGears: 8 })];
    expect(rankCandidates(nodes, req()).map((n) => n.identity)).toEqual(["one"]);
  });

  test("candidates are ranked fullest first, ties by identity; weights round(n/2) + i", () => {
    const nodes = [
      node("b", { activeGears: 5 }),
      node("a", { activeGears: 5 }),
      node("c", { activeGears: 9 }),
      node("d"),
    ];
    expect(rankCandidates(nodes, req()).map((n) => n.identity)).toEqual(["c", "a", "b", "d"]);
    expect([0, 1, 2, 3].map((i) => weightAt(i, 4))).toEqual([2, 3, 4, 5]);
    // total 14: [0, 2/14) c, [2/14, 5/14) a, [5/14, 9/14) b, [9/14, 1) d
    const pick = (random: number) => placeGear(nodes, req({ random })).node?.identity;
    expect([0, 0.14, 0.15, 0.35, 0.36, 0.64, 0.65, 0.9999].map(pick)).toEqual([
      "c",
      "c",
      "a",
      "a",
      "b",
      "b",
      "d",
      "d",
    ]);
  });

  test("usage: a share of the limit, capped at 1", () => {
    expect(usage(node("x", { activeGears: 3, maxActiveGears: 12 }))).toBe(0.25);
    expect(usage(node("x", { activeGears: 30, maxActiveGears: 12 }))).toBe(1);
  });
});

// ---- properties ---------------------------------------------------------------------------------------------

const arbNode = (i: number) =>
  fc.record({
    identity: fc.constant(`node${String(i).padStart(4, "0")}`),
    districtId: fc.constantFrom(D1, D2),
    districtProfile: fc.constantFrom("small", "small", "medium"),
    districtActive: fc.oneof(fc.constant(true), fc.boolean()),
    districtFreeUids: fc.integer({ min: 0, max: 5 }),
    active: fc.oneof(fc.constant(true), fc.boolean()),
    lastSeen: fc.option(fc.integer({ min: NOW - 120_000, max: NOW }), { freq: 8 }),
    profile: fc.option(fc.constantFrom("small", "small", "medium"), { freq: 8 }),
    activeGears: fc.integer({ min: 0, max: 12 }),
    maxActiveGears: fc.integer({ min: 0, max: 10 }),
    appGears: fc.integer({ min: 0, max: 2 }),
  });

const arbNodes = fc
  .integer({ min: 0, max: 40 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbNode(i))))
  .map((ns) => ns as PlacementNode[]);
const arbReq = fc.record({
  profile: fc.constantFrom("small" as const, "medium" as const),
  districtId: fc.option(fc.constantFrom(D1, D2), { nil: undefined }),
  now: fc.constant(NOW),
  silenceMs: fc.constantFrom(30_000, 60_000),
  random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});
const clean = (r: PlacementRequest): PlacementRequest =>
  r.districtId === undefined
    ? { profile: r.profile, now: r.now, silenceMs: r.silenceMs, random: r.random }
    : r;

test("property: the pick is eligible and below its gear limit; null only when no node is eligible", () => {
  fc.assert(
    fc.property(arbNodes, arbReq, (nodes, r0) => {
      const r = clean(r0);
      const p = placeGear(nodes, r);
      const eligible = nodes.filter((n) => exclusionOf(n, r) === null);
      if (p.node === null) {
        expect(eligible).toEqual([]);
        const counted = Object.values(p.excluded).reduce((a, b) => a + (b ?? 0), 0);
        expect(counted).toBe(nodes.length);
      } else {
        expect(exclusionOf(p.node, r)).toBeNull();
        expect(p.node.activeGears).toBeLessThan(p.node.maxActiveGears);
        expect(p.node.districtFreeUids).toBeGreaterThan(0);
        expect(p.node.profile).toBe(r.profile);
        if (r.districtId) expect(p.node.districtId).toBe(r.districtId);
        expect(p.node.appGears).toBe(Math.min(...eligible.map((n) => n.appGears)));
      }
    }),
    { numRuns: 500 },
  );
});

test("property: the same nodes in any order and the same random value give the same node", () => {
  fc.assert(
    fc.property(arbNodes, arbReq, fc.integer(), (nodes, r0, seed) => {
      const r = clean(r0);
      const shuffled = [...nodes];
      const rnd = seededRandom(seed);
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      expect(placeGear(shuffled, r).node?.identity).toBe(placeGear(nodes, r).node?.identity);
    }),
    { numRuns: 300 },
  );
});

test("property: over many picks, an emptier node is chosen at least as often as a fuller one", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 12 }), fc.integer(), (n, seed) => {
      const nodes = Array.from({ length: n }, (_, i) =>
        node(`n${i}`, { activeGears: i % 10, maxActiveGears: 10 }),
      );
      const rnd = seededRandom(seed);
      const counts = new Map<string, number>();
      const picks = 4000;
      for (let k = 0; k < picks; k++) {
        const id = placeGear(nodes, req({ random: rnd() })).node!.identity;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const ranked = rankCandidates(nodes, req());
      const fullest = counts.get(ranked[0].identity) ?? 0;
      const emptiest = counts.get(ranked[ranked.length - 1].identity) ?? 0;
      // expected shares are weightAt(i)/total; the emptiest weighs (round(n/2)+n-1)/round(n/2) ≥ 1.5× the fullest
      expect(emptiest).toBeGreaterThan(fullest);
    }),
    { numRuns: 30 },
  );
});

test("seededRandom: values in [0, 1), the same sequence for the same seed", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 1000 }, () => a());
  expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
  expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  expect(new Set(xs).size).toBeGreaterThan(990);
});

test("property: placeGear picks rankCandidates()[pickIndex(n, random)], and pickIndex follows the weights", () => {
  fc.assert(
    fc.property(arbNodes, arbReq, (nodes, r0) => {
      const r = clean(r0);
      const ranked = rankCandidates(nodes, r);
      const p = placeGear(nodes, r);
      if (ranked.length === 0) expect(p.node).toBeNull();
      else expect(p.node?.identity).toBe(ranked[pickIndex(ranked.length, r.random)].identity);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (n, random) => {
        const i = pickIndex(n, random);
        let before = 0;
        for (let k = 0; k < i; k++) before += weightAt(k, n);
        let total = 0;
        for (let k = 0; k < n; k++) total += weightAt(k, n);
        expect(before).toBeLessThanOrEqual(random * total);
        expect(before + weightAt(i, n)).toBeGreaterThan(random * total);
      },
    ),
    { numRuns: 1000 },
  );
});
