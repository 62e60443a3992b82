// One shape for every part of a gear on the host: ensure it matches the spec, inspect what is there and how
// it differs, remove it. The gear lifecycle (../lifecycle.ts) calls the facets in its fixed order around
// the marker writes. The host work itself is in node/host/, which knows nothing of gears: each facet here
// only turns a gear into the plain values a host module takes.

import type { NodeContext } from "../../context";
import type { DiskMode } from "../../host/disk";
import type { Drift, GearSpec } from "../../types";

/** A gear being created or updated. */
export interface DesiredGear {
  readonly spec: GearSpec;
  readonly home: string;
  /** the disk limit mode chosen at create (from the marker) */
  readonly disk: DiskMode;
  /** first attempt and no account yet, so no gear process can exist (enables the fast layout path) */
  readonly fresh: boolean;
}

/** A gear found on the node, being inspected. */
export interface FoundGear {
  readonly uuid: string;
  readonly uid: number;
  readonly home: string;
  /** null: no marker, only an account with the gear GECOS, so there is nothing to compare with */
  readonly spec: GearSpec | null;
  readonly disk: DiskMode;
  readonly homeExists: boolean;
}

/** A gear being destroyed: what the marker or the account still says of it. */
export interface LeftGear {
  readonly uuid: string;
  /** null: neither a marker nor an account names it */
  readonly uid: number | null;
  readonly home: string;
  /** from the marker; null without one */
  readonly disk: DiskMode | null;
}

/** What inspect read back: the facet's part of the gear state, and its drift. */
export interface FacetReading<State> {
  readonly state: State;
  readonly drift: readonly Drift[];
}

export interface GearFacet<State = null, Removed = void> {
  /** bring this part to the spec; idempotent */
  ensure(ctx: NodeContext, gear: DesiredGear): Promise<void>;
  inspect(ctx: NodeContext, gear: FoundGear): Promise<FacetReading<State>>;
  /** remove this part; nothing there is success */
  remove(ctx: NodeContext, gear: LeftGear): Promise<Removed>;
}
