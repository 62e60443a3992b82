// Spec rules of the gear lifecycle, checked before anything is changed: is a request the gear's marker
// spec, and do its uuid and uid clash with accounts that are not this gear?

import { ConflictError, readGroups, readPasswd } from "../host/accounts";
import type { GearSpec, NodeConfig } from "../types";

/** The spec as one string with the env sorted: two specs are the same gear when these are equal. */
export function canonicalSpec(spec: GearSpec): string {
  const env = Object.fromEntries(Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({
    uuid: spec.uuid,
    uid: spec.uid,
    app: spec.app,
    namespace: spec.namespace,
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
