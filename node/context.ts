// What one node host offers, detected once: config, cgroup hierarchy, SELinux, and the frontend gears are
// routed through. Passed to every operation.

import { detectHierarchy } from "./host/cgroups/detect";
import { CgroupDriver, makeDriver } from "./host/cgroups/driver";
import { loadConfig } from "./config";
import { nodeFrontend, type Frontend } from "./frontend/node-frontend";
import { selinuxStatus } from "./host/selinux/label";
import type { NodeConfig, SelinuxStatus } from "./types";

export interface NodeContext {
  readonly config: NodeConfig;
  readonly cgroup: CgroupDriver;
  readonly selinux: SelinuxStatus;
  /** the HTTP frontend (default: the node's nginx, node/frontend/) */
  readonly frontend: Frontend;
}

export async function makeContext(config: NodeConfig = loadConfig()): Promise<NodeContext> {
  const cgroup = makeDriver(detectHierarchy(config), config.cgroup.rootName);
  return { config, cgroup, selinux: await selinuxStatus(), frontend: nodeFrontend() };
}
