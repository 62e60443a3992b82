// How a gear's cgroup files differ from the values its limits want. Pure.

import { fieldDrift } from "../../drift";
import type { Drift } from "../../types";
import type { CgroupFile } from "./limits";

/** The swap limit files, and the memory limit that shows the memory controller is there. */
const SWAP_FILES = ["memory.memsw.limit_in_bytes", "memory.swap.max"];
const MEMORY_KEY = { v1: "memory/memory.limit_in_bytes", v2: "unified/memory.max" } as const;

/**
 * Drift of each desired file (`values`: key "controller/file" → value read back, null = missing). A swap
 * file that is missing while the memory limit is there is a kernel without swap accounting, not drift.
 */
export function cgroupDrift(
  version: "v1" | "v2",
  desired: readonly CgroupFile[],
  values: Readonly<Record<string, string | null>>,
): Drift[] {
  const drift: Drift[] = [];
  for (const f of desired) {
    const key = `${f.controller}/${f.file}`;
    const actual = values[key];
    if (actual === null && SWAP_FILES.includes(f.file) && values[MEMORY_KEY[version]] !== null) continue;
    drift.push(...fieldDrift(`cgroup:${key}`, f.value, actual));
  }
  return drift;
}
