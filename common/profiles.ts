// The gear profiles (sizes) of the platform: one vocabulary for the stack config (a district's profile) and
// the node config (the limits each profile gets, node/config.ts DEFAULT_PROFILES).

export const GEAR_PROFILES = ["small", "medium", "large"] as const;
export type GearProfile = (typeof GEAR_PROFILES)[number];
