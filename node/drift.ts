// Drift entries: how one observed value differs from the desired one. Pure; every facet reports with it.

import type { Drift } from "./types";

/**
 * The drift of one field: empty when expected and actual read the same. An absent expectation reads
 * "none", an absent value "missing".
 */
export function fieldDrift(field: string, expected: unknown, actual: unknown): Drift[] {
  const e = expected === null || expected === undefined ? "none" : String(expected);
  const a = actual === null || actual === undefined ? "missing" : String(actual);
  return e === a ? [] : [{ field, expected: e, actual: a }];
}
