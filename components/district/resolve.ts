// The District's pure model: DistrictArgs validated (errors name the field) with defaults applied, and the
// scripts its Host commands run (the geartrain CLI, every value in the environment, never in the text).
import { ValidationError } from "../../common/errors";
import { GEAR_PROFILES, type GearProfile } from "../../common/profiles";
import { sha256, validateComponentName, validateInteger } from "../platform-resolve";
import { DISTRICT_DEFAULTS, DistrictArgs } from "./args";

const DISTRICT_NAME = /^[\w.-]{1,64}$/;
const NODE_IDENTITY = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;
/** The broker's limits (services/broker/model/validate.ts): UIDs from 1000 up to the last with an MCS pair */
const MIN_UID = 1000;
const MAX_UID = 523_776;

export interface DistrictSpec {
  readonly name: string;
  readonly districtName: string;
  readonly profile: GearProfile;
  readonly firstUid: number;
  readonly capacity: number;
  /** sorted, unique */
  readonly nodes: readonly string[];
  /** each node's child role: `node-<identity, '.' as '-'>`, with a hash when too long or not unique */
  readonly nodeRoles: Readonly<Record<string, string>>;
  readonly nodeWaitSeconds: number;
}

export function resolveDistrict(
  name: string,
  args: Omit<DistrictArgs, "host" | "release" | "broker">,
): DistrictSpec {
  const d = DISTRICT_DEFAULTS;
  validateComponentName(name);
  const districtName = args.districtName ?? name;
  if (typeof districtName !== "string" || !DISTRICT_NAME.test(districtName))
    throw new ValidationError("districtName", `${JSON.stringify(districtName)} must match ${DISTRICT_NAME}`);
  const profile = args.profile ?? d.profile;
  if (!(GEAR_PROFILES as readonly string[]).includes(profile))
    throw new ValidationError(
      "profile",
      `${JSON.stringify(profile)} is not a gear profile (${GEAR_PROFILES.join(", ")})`,
    );
  const firstUid = validateInteger("firstUid", args.firstUid ?? d.firstUid, MIN_UID, MAX_UID);
  const capacity = validateInteger("capacity", args.capacity ?? d.capacity, 1, MAX_UID - MIN_UID + 1);
  if (firstUid + capacity - 1 > MAX_UID)
    throw new ValidationError(
      "capacity",
      `UIDs ${firstUid}..${firstUid + capacity - 1} go past ${MAX_UID}, the last UID with an MCS pair`,
    );
  const nodes = (args.nodes ?? []).map((n, i) => {
    if (typeof n !== "string" || !NODE_IDENTITY.test(n))
      throw new ValidationError(
        `nodes[${i}]`,
        `${JSON.stringify(n)} is not a node identity (a lower-case host name)`,
      );
    return n;
  });
  const dup = nodes.find((n, i) => nodes.indexOf(n) !== i);
  if (dup !== undefined)
    throw new ValidationError(`nodes[${nodes.lastIndexOf(dup)}]`, `${dup} is listed twice`);
  const sorted = [...nodes].sort();
  const plain = (n: string) => `node-${n.replace(/[^a-z0-9-]/g, "-")}`;
  const nodeRoles: Record<string, string> = {};
  for (const n of sorted) {
    const role = plain(n);
    const clash = role.length > 50 || sorted.some((o) => o !== n && plain(o) === role);
    nodeRoles[n] = clash ? `${role.slice(0, 41)}-${sha256(n).slice(0, 8)}` : role;
  }
  return {
    name,
    districtName,
    profile: profile as GearProfile,
    firstUid,
    capacity,
    nodes: sorted,
    nodeRoles,
    nodeWaitSeconds: validateInteger("nodeWaitSeconds", args.nodeWaitSeconds ?? d.nodeWaitSeconds, 0, 3600),
  };
}

/** Runs the geartrain CLI of the release against the broker (GT_NODE, GT_ENTRY, GT_SERVER; credentials in env). */
const CLI = '"$GT_NODE" "$GT_ENTRY" admin district';

/** Creates the district, or accepts one of that name with the same profile and UIDs (a re-run). */
export const CREATE_DISTRICT_SCRIPT = `${CLI} create "$GT_DISTRICT" --gear-profile "$GT_PROFILE" --first-uid "$GT_FIRST_UID" --capacity "$GT_CAPACITY" --exists-ok --server "$GT_SERVER"`;
/** Deletes it (refused while it has nodes or reserved UIDs); one already gone is fine. */
export const DELETE_DISTRICT_SCRIPT = `${CLI} delete "$GT_DISTRICT" --missing-ok --server "$GT_SERVER"`;
/** Adds a node once its agent has reported facts (bounded by GT_WAIT seconds); a member already is fine. */
export const ADD_NODE_SCRIPT = `${CLI} add-node "$GT_DISTRICT" "$GT_IDENTITY" --wait "$GT_WAIT" --server "$GT_SERVER"`;
/** Deactivates and removes a node (refused while it hosts gears); one already gone is fine. */
export const REMOVE_NODE_SCRIPT = `${CLI} remove-node "$GT_DISTRICT" "$GT_IDENTITY" --if-present --server "$GT_SERVER"`;
