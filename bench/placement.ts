// Benchmark: gear placement (services/broker/model/placement.ts) over 1,000 simulated nodes, against a floor
// measured in the same run, alternating call by call: one pass over the same nodes with the eligibility
// check alone (what any placement must at least do). Each placement is then "created": the chosen node gets
// one more active gear (and the app one more gear there), so the node set evolves as a district fills.
//
//   npm run build && node dist/bench/placement.js [--nodes 1000] [--runs 20000] [--seed 1]
//
// Output: p50/p99/max of both in ms, the ratio at p50 and p99, and one JSON line. Goal: p99 < 10 ms.

import { parseArgs } from "util";
import {
  exclusionOf,
  placeGear,
  seededRandom,
  type PlacementNode,
  type PlacementRequest,
} from "../services/broker/model/placement";
import { loadAvg, pct } from "./lib";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    runs: { type: "string", default: "20000" },
    seed: { type: "string", default: "1" },
  },
});
const N = Number(values.nodes);
const RUNS = Number(values.runs);
const rnd = seededRandom(Number(values.seed));
const NOW = Date.now();
const DISTRICTS = Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(32, "0"));

/** 1,000 nodes over 10 districts: mostly small, some medium, some inactive or silent, various fill levels. */
function simulatedNodes(): PlacementNode[] {
  return Array.from({ length: N }, (_, i) => {
    const max = 20 + Math.floor(rnd() * 80);
    return {
      identity: `node${String(i).padStart(5, "0")}.example.com`,
      districtId: DISTRICTS[i % DISTRICTS.length],
      districtProfile: i % 10 === 9 ? "medium" : "small",
      districtActive: true,
      districtFreeUids: 6000 - Math.floor(rnd() * 3000),
      active: rnd() > 0.03,
      lastSeen: rnd() > 0.02 ? NOW - Math.floor(rnd() * 50_000) : NOW - 300_000,
      profile: i % 10 === 9 ? "medium" : "small",
      activeGears: Math.floor(rnd() * (max + 1)),
      maxActiveGears: max,
      appGears: 0,
    };
  });
}

function ms(f: () => void): number {
  const s = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - s) / 1e6;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function main(): void {
  // mutated in place between placements (outside the timed calls), so the bench's own garbage stays small
  const nodes: Mutable<PlacementNode>[] = simulatedNodes();
  const byId = new Map(nodes.map((n) => [n.identity, n]));
  // 200 apps of up to a few gears each: the app preference has something to do
  const appNodes = new Map<number, Set<string>>();
  const place: number[] = [];
  const floor: number[] = [];
  let placed = 0;
  let none = 0;
  let sink = 0;
  // warm-up (JIT), not counted
  for (let k = 0; k < 500; k++)
    placeGear(nodes, { profile: "small", now: NOW, silenceMs: 60_000, random: rnd() });
  for (let k = 0; k < RUNS; k++) {
    const app = Math.floor(rnd() * 200);
    const hosting = appNodes.get(app) ?? new Set<string>();
    for (const id of hosting) byId.get(id)!.appGears = 1;
    const req: PlacementRequest = { profile: "small", now: NOW, silenceMs: 60_000, random: rnd() };
    let chosen: PlacementNode | null = null;
    const tp = ms(() => {
      chosen = placeGear(nodes, req).node;
    });
    const tf = ms(() => {
      for (const n of nodes) if (exclusionOf(n, req) === null) sink++;
    });
    for (const id of hosting) byId.get(id)!.appGears = 0;
    place.push(tp);
    floor.push(tf);
    if (chosen === null) {
      none++;
      continue;
    }
    const c = byId.get((chosen as PlacementNode).identity)!;
    placed++;
    hosting.add(c.identity);
    appNodes.set(app, hosting);
    c.activeGears++;
    for (const n of nodes) if (n.districtId === c.districtId) n.districtFreeUids--;
  }
  const r = (x: number) => +x.toFixed(4);
  const result = {
    bench: "placement",
    nodes: N,
    runs: RUNS,
    placed,
    noNode: none,
    placeMs: { p50: r(pct(place, 50)), p99: r(pct(place, 99)), max: r(Math.max(...place)) },
    floorMs: { p50: r(pct(floor, 50)), p99: r(pct(floor, 99)), max: r(Math.max(...floor)) },
    ratioP50: +(pct(place, 50) / pct(floor, 50)).toFixed(2),
    ratioP99: +(pct(place, 99) / pct(floor, 99)).toFixed(2),
    goalP99Ms: 10,
    met: pct(place, 99) < 10,
    loadavg: loadAvg(),
  };
  console.log(`placement over ${N} nodes, ${RUNS} placements (${placed} placed, ${none} with no node)`);
  console.log(
    `  placeGear   p50 ${result.placeMs.p50} ms  p99 ${result.placeMs.p99} ms  max ${result.placeMs.max} ms`,
  );
  console.log(
    `  floor scan  p50 ${result.floorMs.p50} ms  p99 ${result.floorMs.p99} ms  max ${result.floorMs.max} ms`,
  );
  console.log(
    `  ratio       p50 ${result.ratioP50}x  p99 ${result.ratioP99}x   goal p99 < 10 ms: ${result.met ? "met" : "MISSED"}`,
  );
  console.log(JSON.stringify(result));
  if (sink < 0) console.log(sink);
}

main();
