// Which cgroup hierarchy does this host have? Parsed from /proc/self/mountinfo (pure parser + thin reader).

import { existsSync, readFileSync } from "fs";
import * as path from "path";
import type { NodeConfig } from "../../types";

export const V1_CONTROLLERS = ["cpu", "cpuacct", "memory", "pids", "freezer"] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];
export const V2_CONTROLLERS = ["cpu", "memory", "pids"] as const;

export type Hierarchy =
  | { readonly version: "v1"; readonly mounts: Readonly<Record<V1Controller, string>> }
  | { readonly version: "v2"; readonly mount: string };

export interface MountInfo {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const [left, right] = line.split(" - ");
    if (!right) continue;
    const l = left.split(" ");
    const r = right.split(" ");
    out.push({ mountPoint: unescape(l[4]), fsType: r[0], superOptions: (r[2] ?? "").split(",") });
  }
  return out;
}

/** Pick the hierarchy from mount info. v1 wins when all v1 controllers we need are mounted (hybrid hosts). */
export function chooseHierarchy(
  mounts: readonly MountInfo[],
  want: NodeConfig["cgroup"]["version"],
  v2Controllers: (mount: string) => string[],
): Hierarchy | { error: string } {
  const v1: Partial<Record<V1Controller, string>> = {};
  for (const m of mounts) {
    if (m.fsType !== "cgroup") continue;
    for (const c of V1_CONTROLLERS) if (m.superOptions.includes(c) && !v1[c]) v1[c] = m.mountPoint;
  }
  const haveV1 = V1_CONTROLLERS.every((c) => v1[c]);
  const v2 = mounts
    .filter((m) => m.fsType === "cgroup2")
    .find((m) => V2_CONTROLLERS.every((c) => v2Controllers(m.mountPoint).includes(c)));
  if ((want === "auto" || want === "v1") && haveV1) {
    return { version: "v1", mounts: v1 as Record<V1Controller, string> };
  }
  if ((want === "auto" || want === "v2") && v2) return { version: "v2", mount: v2.mountPoint };
  const missingV1 = V1_CONTROLLERS.filter((c) => !v1[c]);
  return {
    error:
      `no usable cgroup hierarchy (wanted ${want}): v1 is missing controllers [${missingV1.join(", ")}], ` +
      `and no cgroup2 mount offers [${V2_CONTROLLERS.join(", ")}]`,
  };
}

function readControllers(mount: string): string[] {
  try {
    return readFileSync(path.join(mount, "cgroup.controllers"), "utf8").trim().split(/\s+/);
  } catch {
    return [];
  }
}

/** Detect the host hierarchy, honouring config.cgroup.version and config.cgroup.mountRoot. */
export function detectHierarchy(config: NodeConfig): Hierarchy {
  const { version, mountRoot } = config.cgroup;
  let result: Hierarchy | { error: string };
  if (mountRoot) {
    const isV2 = existsSync(path.join(mountRoot, "cgroup.controllers"));
    if (version === "v2" || (version === "auto" && isV2)) result = { version: "v2", mount: mountRoot };
    else {
      const mounts = Object.fromEntries(V1_CONTROLLERS.map((c) => [c, path.join(mountRoot, c)]));
      result = { version: "v1", mounts: mounts as Record<V1Controller, string> };
    }
  } else {
    result = chooseHierarchy(
      parseMountInfo(readFileSync("/proc/self/mountinfo", "utf8")),
      version,
      readControllers,
    );
  }
  if ("error" in result) throw new Error(result.error);
  return result;
}
