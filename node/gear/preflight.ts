// Spec rules of the gear lifecycle, checked before anything is changed: is a request the gear's marker
// spec, do its uuid and uid clash with accounts that are not this gear, and does its application fit the
// node's other gears?

import { ConflictError } from "../../common/errors";
import { readGroups, readPasswd } from "../host/accounts";
import type { GearSpec, NodeConfig } from "../types";
import { applicationConflict } from "./application";
import { listMarkers, readMarker } from "./marker";

/** The spec as one string with the env sorted: two specs are the same gear when these are equal. */
export function canonicalSpec(spec: GearSpec): string {
  const env = Object.fromEntries(Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({
    uuid: spec.uuid,
    uid: spec.uid,
    app: spec.app,
    namespace: spec.namespace,
    appUuid: spec.appUuid ?? null,
    profile: spec.profile,
    env,
  });
}

/** Refuse before touching anything if the uuid/uid clash with accounts that are not this gear. */
export async function preflight(config: NodeConfig, spec: GearSpec): Promise<void> {
  const users = await readPasswd();
  const byName = users.find((u) => u.name === spec.uuid);
  if (byName && byName.gecos !== config.gecos)
    throw new ConflictError(`user ${spec.uuid} exists and is not a gear`);
  if (byName && byName.uid !== spec.uid)
    throw new ConflictError(`gear ${spec.uuid} exists with uid ${byName.uid}`);
  const byUid = users.find((u) => u.uid === spec.uid);
  if (byUid && byUid.name !== spec.uuid)
    throw new ConflictError(`uid ${spec.uid} is taken by user ${byUid.name}`);
  const groups = await readGroups();
  const gByName = groups.find((g) => g.name === spec.uuid);
  if (gByName && gByName.gid !== spec.uid)
    throw new ConflictError(`group ${spec.uuid} exists with gid ${gByName.gid}`);
  const gByGid = groups.find((g) => g.gid === spec.uid);
  if (gByGid && gByGid.name !== spec.uuid)
    throw new ConflictError(`gid ${spec.uid} is taken by group ${gByGid.name}`);
}

/**
 * Refuse a second application under a name this node has, or an application id under a second name
 * (node/gear/application.ts). The caller holds the applications lock until the marker is written.
 */
export async function checkApplication(config: NodeConfig, spec: GearSpec): Promise<void> {
  const others: GearSpec[] = [];
  for (const uuid of await listMarkers(config)) {
    if (uuid === spec.uuid) continue;
    const m = await readMarker(config, uuid).catch(() => null);
    if (m) others.push(m.spec);
  }
  const why = applicationConflict(spec, others);
  if (why) throw new ConflictError(why);
}
