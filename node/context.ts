// What one node host offers, detected once: config, cgroup hierarchy, SELinux. Passed to every operation.

import { detectHierarchy } from "./host/cgroups/detect";
import { CgroupDriver, makeDriver } from "./host/cgroups/driver";
import { loadConfig } from "./config";
import { selinuxStatus } from "./host/selinux";
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
