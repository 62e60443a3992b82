// What one node host offers, detected once: config, cgroup hierarchy, SELinux. Passed to every operation.

import { detectHierarchy } from "./cgroups/detect";
import { CgroupDriver, makeDriver } from "./cgroups/driver";
import { loadConfig } from "./config";
import { selinuxStatus } from "./selinux";
import type { NodeConfig, SelinuxStatus } from "./types";

export interface NodeContext {
  readonly config: NodeConfig;
  readonly cgroup: CgroupDriver;
  readonly selinux: SelinuxStatus;
}

export async function makeContext(config: NodeConfig = loadConfig()): Promise<NodeContext> {
  const cgroup = makeDriver(detectHierarchy(config), config.cgroup.rootName);
  return { config, cgroup, selinux: await selinuxStatus() };
}
