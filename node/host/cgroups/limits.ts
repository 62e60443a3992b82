// Desired cgroup file values from a profile: pure, unit-tested for both hierarchies.

import type { Profile } from "../../types";

export const CFS_PERIOD_US = 100_000;

export type CgroupLimits = Pick<Profile, "memoryBytes" | "swapBytes" | "pids" | "cpuWeight" | "cpuMax">;

/** v2 weight (default 100) → v1 shares (default 1024). 25 → 256. */
export function weightToShares(weight: number): number {
  return Math.max(2, Math.round((weight * 1024) / 100));
}

export function cpuQuotaUs(cpuMax: number | null): number | null {
  return cpuMax === null ? null : Math.max(1000, Math.round(cpuMax * CFS_PERIOD_US));
}

/** One cgroup file to write: `controller` is the v1 hierarchy it lives in (v2: "unified"). */
export interface CgroupFile {
  readonly controller: string;
  readonly file: string;
  readonly value: string;
}

/** v1 files in write order. memsw is ordered at apply time against the current value (memsw ≥ mem always). */
export function v1Files(l: CgroupLimits): CgroupFile[] {
  const quota = cpuQuotaUs(l.cpuMax);
  return [
    { controller: "cpu", file: "cpu.shares", value: String(weightToShares(l.cpuWeight)) },
    { controller: "cpu", file: "cpu.cfs_period_us", value: String(CFS_PERIOD_US) },
    { controller: "cpu", file: "cpu.cfs_quota_us", value: quota === null ? "-1" : String(quota) },
    { controller: "memory", file: "memory.limit_in_bytes", value: String(l.memoryBytes) },
    { controller: "memory", file: "memory.memsw.limit_in_bytes", value: String(l.memoryBytes + l.swapBytes) },
    { controller: "pids", file: "pids.max", value: String(l.pids) },
  ];
}

export function v2Files(l: CgroupLimits): CgroupFile[] {
  const quota = cpuQuotaUs(l.cpuMax);
  return [
    { controller: "unified", file: "cpu.weight", value: String(l.cpuWeight) },
    { controller: "unified", file: "cpu.max", value: `${quota === null ? "max" : quota} ${CFS_PERIOD_US}` },
    { controller: "unified", file: "memory.max", value: String(l.memoryBytes) },
    { controller: "unified", file: "memory.swap.max", value: String(l.swapBytes) },
    { controller: "unified", file: "pids.max", value: String(l.pids) },
  ];
}
