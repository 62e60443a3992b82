// The broker's domain types: what the store keeps and the application service works with. No I/O, no SQL
// (services/broker/store/ maps rows to these), no wire shapes (services/broker/rest/ maps these to the
// OpenShift v1.7 JSON). Ids are 32 lowercase hex digits (a gear's id is its node-side UUID).

import type { GearProfile } from "../../../common/profiles";

export type Id = string;
export type Role = "user" | "admin";

export interface User {
  readonly id: Id;
  readonly login: string;
  readonly role: Role;
  readonly maxGears: number;
  readonly maxDomains: number;
  readonly createdAt: Date;
}

/** A bearer token's record: the token itself is never stored, only its sha256. */
export interface Authorization {
  readonly id: Id;
  readonly userId: Id;
  readonly scopes: readonly string[];
  readonly note: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export interface SshKey {
  readonly id: Id;
  readonly userId: Id;
  readonly name: string;
  /** ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 ... */
  readonly type: string;
  /** the base64 key body */
  readonly content: string;
  readonly createdAt: Date;
}

export interface Domain {
  readonly id: Id;
  readonly namespace: string;
  readonly ownerId: Id;
  readonly createdAt: Date;
}

export const APP_STATES = ["creating", "started", "stopped", "idle", "deleting", "failed"] as const;
export type AppState = (typeof APP_STATES)[number];

export interface Application {
  readonly id: Id;
  readonly name: string;
  readonly domainId: Id;
  readonly profile: GearProfile;
  readonly state: AppState;
  readonly createdAt: Date;
}

export interface Gear {
  readonly id: Id;
  readonly appId: Id;
  readonly districtId: Id;
  readonly uid: number;
  /** the node's identity (its bus name) */
  readonly node: string;
  readonly createdAt: Date;
}

export const CARTRIDGE_TYPES = ["web", "addon"] as const;
export type CartridgeType = (typeof CARTRIDGE_TYPES)[number];

export interface AppCartridge {
  readonly appId: Id;
  readonly name: string;
  readonly version: string;
  readonly type: CartridgeType;
  /** what the node last reported or the service last set ("installing", "started", "stopped", ...) */
  readonly status: string;
  readonly createdAt: Date;
}

export interface EnvVar {
  readonly appId: Id;
  readonly name: string;
  readonly value: string;
}

export interface District {
  readonly id: Id;
  readonly name: string;
  readonly profile: GearProfile;
  readonly firstUid: number;
  readonly uidCount: number;
  readonly active: boolean;
  readonly createdAt: Date;
}

/** A district with how many of its UIDs are free (origin-server's `available_capacity`). */
export interface DistrictCapacity extends District {
  readonly availableUids: number;
}

export interface DistrictNode {
  readonly districtId: Id;
  readonly identity: string;
  readonly active: boolean;
}

/** What a node's agent last published on the facts topic (services/bus/actions.ts owns the wire shape). */
export interface NodeFacts {
  readonly node: string;
  readonly district?: string | null;
  readonly profile: string;
  readonly activeGears: number;
  readonly maxActiveGears: number;
  readonly publicHostname: string;
  readonly cartridges: readonly { name: string; version: string; type: string }[];
  readonly at: number;
}

export interface NodeRecord {
  readonly identity: string;
  readonly facts: NodeFacts | null;
  readonly lastSeen: Date | null;
}

export const OP_STATES = ["pending", "running", "done", "rolling_back", "failed"] as const;
/** pending: not started; running: going forward; rolling_back: undoing; done / failed: finished. */
export type OpState = (typeof OP_STATES)[number];

export const STEP_STATES = ["pending", "started", "done", "undone"] as const;
/** started: begun and not known to have finished (a crash between start and done leaves it so). */
export type StepState = (typeof STEP_STATES)[number];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface OpStep {
  readonly name: string;
  readonly args: Json;
  readonly state: StepState;
  /** what the step's undo needs (set when the step is done) */
  readonly undo: Json;
}

/** The error a failed chain keeps (common/errors.ts errorJson's fields). */
export interface OpError {
  readonly kind: string;
  readonly message: string;
  readonly field?: string;
  readonly step?: string;
}

export interface PendingOp {
  readonly id: Id;
  readonly appId: Id | null;
  readonly kind: string;
  readonly steps: readonly OpStep[];
  /** index of the step being done (forward) or undone (rolling back) */
  readonly currentStep: number;
  readonly state: OpState;
  readonly claimedBy: string | null;
  readonly claimedUntil: Date | null;
  readonly error: OpError | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
