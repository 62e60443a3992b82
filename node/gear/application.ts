// Which gears form one application. The broker names an application by its id (the gear spec's appUuid, as
// OpenShift's application uuid); names (app, namespace) are only what its URL is made of. Gears join
// (publish/subscribe) only gears of the same id, and a gear without one is an application of its own, so
// nothing a caller says about names can merge two owners' gears. One node holds one application per name:
// a gear under a name that another application has here, or an id that here has another name, is refused.

import type { GearSpec } from "../types";

type AppIdentity = Pick<GearSpec, "uuid" | "app" | "namespace" | "appUuid">;

/** Whether two gears belong to one application: the same gear, or both carry the same application id. Pure. */
export function sameApplication(
  a: Pick<GearSpec, "uuid" | "appUuid">,
  b: Pick<GearSpec, "uuid" | "appUuid">,
): boolean {
  return a.uuid === b.uuid || (a.appUuid !== undefined && a.appUuid === b.appUuid);
}

function describeApp(appUuid: string | undefined): string {
  return appUuid ? `application ${appUuid}` : "a gear without an application id";
}

/**
 * Why `spec` cannot join this node beside `others` (the other gears' specs), or null. Gears that share a
 * name must share the id (or all have none: gears made before ids, each still alone); an id keeps its name.
 * Pure.
 */
export function applicationConflict(spec: AppIdentity, others: readonly AppIdentity[]): string | null {
  for (const o of others) {
    if (o.uuid === spec.uuid) continue;
    const sameName = o.app === spec.app && o.namespace === spec.namespace;
    if (sameName && o.appUuid !== spec.appUuid)
      return `app ${o.app} in namespace ${o.namespace} belongs to ${describeApp(o.appUuid)} on this node (gear ${o.uuid}); this gear is for ${describeApp(spec.appUuid)}`;
    if (!sameName && spec.appUuid !== undefined && o.appUuid === spec.appUuid)
      return `application ${spec.appUuid} is app ${o.app} in namespace ${o.namespace} on this node (gear ${o.uuid}), not ${spec.app} in ${spec.namespace}`;
  }
  return null;
}
