// Where a gear's group sits in a cgroup hierarchy (pure). CPU weights are relative among siblings only, so
// a gear's group is `<rootName>-<uuid>` directly under the hierarchy root: there it is a sibling of the
// host's own top-level groups and of the root group's processes, and its weight 25 (shares 256) is 20%
// against any default-weight workload. The old layout, `<rootName>/<uuid>` under one Geartrain group of
// default weight, let all gears together compete as a single default-weight entity (a lone gear got 50%
// against a host process); it is read only to migrate gears out of it (docs/node-operations.md, CPU).

import { UUID_PATTERN } from "../../validate";

/** The gear's group name, directly under each hierarchy root. */
export function gearGroupName(rootName: string, uuid: string): string {
  return `${rootName}-${uuid}`;
}

/** The gear uuid a top-level group name belongs to, or null when the name is not one of our gear groups. */
export function uuidOfGroupName(rootName: string, name: string): string | null {
  const prefix = `${rootName}-`;
  if (!name.startsWith(prefix)) return null;
  const uuid = name.slice(prefix.length);
  return UUID_PATTERN.test(uuid) ? uuid : null;
}

/** The gear's group as /proc/<pid>/cgroup shows it. */
export function gearCgroupPath(rootName: string, uuid: string): string {
  return `/${gearGroupName(rootName, uuid)}`;
}

/** The gear's group in the old layout, relative to a hierarchy root. */
export function legacyGroupName(rootName: string, uuid: string): string {
  return `${rootName}/${uuid}`;
}
