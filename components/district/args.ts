// Types of the District component: a district (a UID pool of nodes with one gear profile) made through a
// broker's admin API by the geartrain CLI on the broker's host. docs/platform.md, "District".
import type * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import type { GeartrainRelease } from "../release";

/** The broker whose admin API makes the district: a Broker's outputs (pass the Broker itself). */
export interface DistrictBrokerInput {
  /** The API's base URL as the broker's own host reaches it (Broker.localUrl). */
  readonly localUrl: pulumi.Input<string>;
  readonly adminLogin: pulumi.Input<string>;
  /** A secret. */
  readonly adminPassword: pulumi.Input<string>;
}

export interface DistrictArgs {
  /** The broker's host: the CLI runs there, against the broker's local URL. */
  readonly host: Host;
  /** Where the geartrain CLI is on that host (the Broker's release). */
  readonly release: GeartrainRelease;
  readonly broker: DistrictBrokerInput;
  /** The district's name in the broker (letters, digits, `_`, `.`, `-`). @default the component's name */
  readonly districtName?: string;
  /** The gear profile of every node and gear in it. @default "small" */
  readonly profile?: "small" | "medium" | "large";
  /** The first UID of its block. @default 1000 */
  readonly firstUid?: number;
  /** How many UIDs (gears) the block holds. @default 6000 */
  readonly capacity?: number;
  /**
   * Identities of its nodes (their agents' `identity`). Each is added once its agent has reported facts to
   * the broker, and removed (deactivated first; refused while it hosts gears) when it leaves the list.
   * @default []
   */
  readonly nodes?: readonly string[];
  /** Seconds adding a node waits for its agent's first facts. @default 300 */
  readonly nodeWaitSeconds?: number;
}

export const DISTRICT_DEFAULTS = {
  profile: "small",
  firstUid: 1000,
  capacity: 6000,
  nodeWaitSeconds: 300,
} as const;
