// Gear placement (pure): which node gets a new gear, after origin-server's rpc_find_all_available +
// select_best_fit_node_impl (reference §4.5), without MCollective discovery (the broker has every node's
// last facts) and without regions/zones (we have none).
//
// 1. Eligible: the node is in a district that is active and whose profile is the gear's, the node is active
//    in it, its last facts are no older than the silence limit and name the same profile, it is below its
//    active-gear limit (activeGears < maxActiveGears), and its district has a free UID.
// 2. Prefer nodes not hosting a gear of this application yet; when every eligible node hosts one, those
//    with the fewest.
// 3. Sort by consumed capacity (activeGears / maxActiveGears), fullest first, ties by identity, and pick by
//    weighted random: position i (0 = fullest) weighs round(n/2) + i, so emptier nodes are likelier but not
//    certain (no herding of concurrent creates onto one node), as origin's final pick.
//
// Deterministic: the same candidates (in any order) and the same `random` value give the same node.

import type { GearProfile } from "../../../common/profiles";

export interface PlacementNode {
  readonly identity: string;
  readonly districtId: string;
  /** the district's gear profile and whether the district takes new gears */
  readonly districtProfile: string;
  readonly districtActive: boolean;
  /** free UIDs left in the node's district */
  readonly districtFreeUids: number;
  /** active in its district (origin's deactivate-node: no new gears) */
  readonly active: boolean;
  /** epoch ms of the last facts or reply; null: never heard from */
  readonly lastSeen: number | null;
  /** from the node's last facts; null profile when there are no facts yet */
  readonly profile: string | null;
  readonly activeGears: number;
  readonly maxActiveGears: number;
  /** gears of the application being placed on this node already */
  readonly appGears: number;
}

export interface PlacementRequest {
  readonly profile: GearProfile;
  /** only this district (e.g. beside the application's other gears) */
  readonly districtId?: string;
  /** epoch ms */
  readonly now: number;
  /** a node silent for longer than this is unresponsive */
  readonly silenceMs: number;
  /** a value in [0, 1): Math.random() in production, a seeded sequence in tests and benches */
  readonly random: number;
}

export type Exclusion =
  | "other_district"
  | "district_inactive"
  | "profile_mismatch"
  | "node_inactive"
  | "unresponsive"
  | "at_gear_limit"
  | "no_free_uid";

export type Placement<T extends PlacementNode = PlacementNode> =
  | { readonly node: T; readonly candidates: number }
  | { readonly node: null; readonly excluded: Readonly<Partial<Record<Exclusion, number>>> };

/** Why a node cannot take the gear, or null when it can (the first reason of the list above that holds). */
export function exclusionOf(n: PlacementNode, req: PlacementRequest): Exclusion | null {
  if (req.districtId !== undefined && n.districtId !== req.districtId) return "other_district";
  if (!n.districtActive) return "district_inactive";
  if (n.districtProfile !== req.profile || n.profile !== req.profile) return "profile_mismatch";
  if (!n.active) return "node_inactive";
  if (n.lastSeen === null || req.now - n.lastSeen > req.silenceMs) return "unresponsive";
  if (!(n.activeGears < n.maxActiveGears)) return "at_gear_limit";
  if (!(n.districtFreeUids > 0)) return "no_free_uid";
  return null;
}

/** Consumed capacity in [0, 1] (a node with no limit counts as full). */
export function usage(n: PlacementNode): number {
  return n.maxActiveGears > 0 ? Math.min(1, n.activeGears / n.maxActiveGears) : 1;
}

interface Keyed<T extends PlacementNode = PlacementNode> {
  readonly node: T;
  readonly usage: number;
}

/** Fullest first, ties by identity: the order the weights apply to. */
function fullerFirst(a: Keyed, b: Keyed): number {
  return (
    b.usage - a.usage || (a.node.identity < b.node.identity ? -1 : a.node.identity > b.node.identity ? 1 : 0)
  );
}

/** The eligible nodes with the fewest gears of the app (one pass), with their usage. */
function candidates<T extends PlacementNode>(nodes: readonly T[], req: PlacementRequest): Keyed<T>[] {
  let fewest = Infinity;
  let kept: Keyed<T>[] = [];
  for (const n of nodes) {
    if (n.appGears > fewest || exclusionOf(n, req) !== null) continue;
    if (n.appGears < fewest) {
      fewest = n.appGears;
      kept = [];
    }
    kept.push({ node: n, usage: usage(n) });
  }
  return kept;
}

/** The eligible nodes after the app preference, fullest first (the order the weights apply to). */
export function rankCandidates<T extends PlacementNode>(nodes: readonly T[], req: PlacementRequest): T[] {
  return candidates(nodes, req)
    .sort(fullerFirst)
    .map((k) => k.node);
}

/** The weight of position i of n candidates (0 = fullest): round(n/2) + i. */
export function weightAt(i: number, n: number): number {
  return Math.round(n / 2) + i;
}

/** The position (0 = fullest) that `random` in [0, 1) picks among n weighted candidates. */
export function pickIndex(n: number, random: number): number {
  const r = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1 - Number.EPSILON) : 0;
  const base = Math.round(n / 2);
  // S(k) = sum of the weights of positions < k = k*base + k(k-1)/2; the pick is the i with S(i) <= t < S(i+1)
  const S = (k: number) => k * base + (k * (k - 1)) / 2;
  const t = r * S(n);
  let i = Math.floor((-(2 * base - 1) + Math.sqrt((2 * base - 1) ** 2 + 8 * t)) / 2);
  i = Math.min(Math.max(i, 0), n - 1);
  while (i < n - 1 && S(i + 1) <= t) i++;
  while (i > 0 && S(i) > t) i--;
  return i;
}

/** The k-th element of xs in fullerFirst order (quickselect, O(n) on average; reorders xs). */
function select<T extends PlacementNode>(xs: Keyed<T>[], k: number): Keyed<T> {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (fullerFirst(xs[i], pivot) < 0) i++;
      while (fullerFirst(xs[j], pivot) > 0) j--;
      if (i <= j) {
        [xs[i], xs[j]] = [xs[j], xs[i]];
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k];
  }
  return xs[k];
}

/**
 * Picks the node for a new gear, or says how many nodes each reason excluded. The same as
 * rankCandidates(nodes, req)[pickIndex(n, req.random)], without sorting every candidate. The pick is one of
 * the given objects, so callers may pass their own extensions of PlacementNode (placement-candidates.ts adds
 * the public hostname).
 */
export function placeGear<T extends PlacementNode>(nodes: readonly T[], req: PlacementRequest): Placement<T> {
  const kept = candidates(nodes, req);
  const n = kept.length;
  if (n === 0) {
    const excluded: Partial<Record<Exclusion, number>> = {};
    for (const node of nodes) {
      const why = exclusionOf(node, req);
      if (why) excluded[why] = (excluded[why] ?? 0) + 1;
    }
    return { node: null, excluded };
  }
  return { node: select(kept, pickIndex(n, req.random)).node, candidates: n };
}

/** A message for "no node": origin's "No nodes available", with what excluded them. */
export function noNodeMessage(
  profile: string,
  excluded: Readonly<Partial<Record<Exclusion, number>>>,
): string {
  const parts = Object.entries(excluded)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([why, count]) => `${count} ${why.replace(/_/g, " ")}`);
  return `No nodes available for gear size '${profile}'${parts.length ? ` (${parts.join(", ")})` : " (no nodes)"}`;
}

/** A small seeded generator of values in [0, 1) (mulberry32), for tests and benches. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
