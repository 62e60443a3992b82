// Representations the client reads (shared/reference/openshift-rest-api.md §4, and the admin API in
// docs/control-plane.md). Only the fields a client relies on are typed; the broker may send more.

import type { LinkMap, WireMessage } from "./model";

export interface User {
  readonly id: string;
  readonly login: string;
  readonly role?: string;
  readonly consumed_gears?: number;
  readonly max_gears?: number;
  readonly max_domains?: number;
  readonly links?: LinkMap;
}

export interface SshKey {
  readonly name: string;
  readonly type: string;
  /** the base64 body only */
  readonly content: string;
  readonly links?: LinkMap;
}

export interface Authorization {
  readonly id: string;
  /** only in the reply that created it */
  readonly token?: string;
  readonly note?: string;
  readonly scopes?: string;
  readonly expires_in?: number;
  readonly links?: LinkMap;
}

export interface Domain {
  readonly id: string;
  /** the namespace (1.6+; ≤ 1.5 brokers sent it as `id`) */
  readonly name: string;
  readonly suffix?: string;
  readonly creation_time?: string;
  readonly members?: readonly { login: string; owner?: boolean; role?: string }[];
  readonly links?: LinkMap;
}

export interface Cartridge {
  readonly name: string;
  readonly display_name?: string;
  readonly type?: "standalone" | "embedded" | string;
  readonly tags?: readonly string[];
  readonly description?: string;
  readonly properties?: readonly { name: string; value: string; type?: string }[];
  readonly current_scale?: number;
  readonly links?: LinkMap;
}

export interface Application {
  readonly id: string;
  readonly name: string;
  readonly domain_id: string;
  readonly creation_time?: string;
  readonly app_url?: string;
  readonly git_url?: string;
  readonly ssh_url?: string;
  readonly gear_profile?: string;
  readonly gear_count?: number;
  readonly framework?: string;
  readonly state?: string;
  /** only when asked for with ?include=cartridges */
  readonly cartridges?: readonly Cartridge[];
  readonly links?: LinkMap;
}

export interface EnvironmentVariable {
  readonly name: string;
  readonly value: string;
}

export interface GearGroup {
  readonly name: string;
  readonly gear_profile?: string;
  readonly cartridges?: readonly { name: string }[];
  readonly gears?: readonly { id: string; state: string; ssh_url?: string }[];
}

/** One gear as its node reports it (`GET_LIVE_STATE`, docs/control-plane.md). */
export interface GearLiveState {
  readonly id: string;
  readonly uid: number;
  readonly node: string;
  /** false: the node has no such gear, or could not be asked (`error`) */
  readonly present: boolean;
  readonly error: string | null;
  readonly phase: string | null;
  readonly gear_profile: string | null;
  readonly mcs_label: string | null;
  /** cgroup file → the value read back */
  readonly cgroup: Readonly<Record<string, string | null>>;
  readonly drift: readonly { readonly field: string; readonly expected: string; readonly actual: string }[];
  readonly cartridges: readonly {
    readonly name: string;
    readonly status: string;
    readonly desired: string | null;
  }[];
  readonly route: { readonly hostnames: readonly string[]; readonly idle: boolean } | null;
}

/** What the nodes really have for an application (`GET_LIVE_STATE`; `REPAIR` answers it too). */
export interface ApplicationLiveState {
  readonly id: string;
  readonly name: string;
  readonly domain_id: string;
  readonly state: string;
  readonly gear_profile: string;
  readonly gears: readonly GearLiveState[];
}

// admin (our extension, docs/control-plane.md "Admin API")

export interface District {
  readonly name: string;
  readonly uuid: string;
  readonly gear_profile: string;
  readonly first_uid: number;
  readonly max_uid: number;
  readonly max_capacity: number;
  readonly available_capacity: number;
  readonly nodes: readonly { name: string; active: boolean }[];
  readonly creation_time?: string;
}

export interface NodeRecord {
  readonly name: string;
  readonly district: string | null;
  readonly active: boolean | null;
  readonly responsive: boolean;
  readonly last_seen: string | null;
  readonly profile: string | null;
  readonly active_gears: number | null;
  readonly max_active_gears: number | null;
  readonly public_hostname: string | null;
  readonly cartridges: readonly string[];
}

/** A gear as the broker records it. */
export interface GearRecord {
  readonly uuid: string;
  readonly uid: number;
  readonly node: string;
  readonly district: string;
  readonly application: string;
  readonly application_id: string;
  readonly domain: string;
  readonly fqdn: string;
  readonly cartridges: readonly string[];
  readonly state: string;
}

/** A gear as a node reports it (the node's `gear.list` entry). */
export interface NodeGear {
  readonly uuid: string;
  readonly uid: number | null;
  readonly phase: string;
  readonly app: string | null;
  readonly namespace: string | null;
  readonly appUuid: string | null;
  readonly profile?: string | null;
  /** when the node reports them: `<name>-<version>` */
  readonly cartridges?: readonly string[];
}

/** A frontend route as a node reports it (`frontend.read`). */
export interface NodeFrontend {
  readonly gearUuid: string;
  readonly hostnames: readonly string[];
  readonly idle?: boolean;
}

export interface NodeGears {
  readonly gears: readonly NodeGear[];
  readonly frontends: readonly NodeFrontend[];
}

/** A reply's value with the messages worth showing (result, warning ...). */
export interface Result<T> {
  readonly value: T;
  readonly messages: readonly WireMessage[];
}
