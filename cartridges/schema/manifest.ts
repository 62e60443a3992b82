// TypeScript mirror of manifest.schema.json and managed-files.schema.json: the shape of a cartridge's
// metadata AFTER validation (defaults applied). The schemas are the source of truth;
// test/unit/cartridges/schema-sync.test.ts proves both list the same keys and enum values, so a change to
// one without the other fails the tests. Keys are spelled as in the YAML (OpenShift v2 names).

/** Where the manifest lives inside a cartridge directory. */
export const MANIFEST_FILE = "metadata/manifest.yml";
/** Optional list of managed files inside a cartridge directory. */
export const MANAGED_FILES_FILE = "metadata/managed_files.yml";

/** Keys every manifest must have. */
export const REQUIRED_KEYS = [
  "Name",
  "Cartridge-Short-Name",
  "Cartridge-Version",
  "Cartridge-Vendor",
  "Version",
] as const satisfies readonly (keyof Manifest)[];

/** Keys a `Version-Overrides` entry may replace (identity and source keys cannot be overridden). */
export const OVERRIDABLE_KEYS = [
  "Display-Name",
  "Description",
  "License",
  "License-Url",
  "Vendor",
  "Website",
  "Help-Topics",
  "Cart-Data",
  "Categories",
  "Provides",
  "Requires",
  "Conflicts",
  "Suggests",
  "Native-Requires",
  "Architecture",
  "Obsolete",
  "Publishes",
  "Subscribes",
  "Scaling",
  "Group-Overrides",
  "Components",
  "Configure-Order",
  "Endpoints",
  "Additional-Control-Actions",
  "Install-Build-Required",
  "Metrics",
] as const satisfies readonly (keyof Manifest)[];
export type OverridableKey = (typeof OVERRIDABLE_KEYS)[number];

/** Protocols an endpoint can speak. */
export const PROTOCOLS = ["http", "https", "ws", "wss", "tcp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Kinds of `Cart-Data` entries. */
export const CART_DATA_TYPES = ["environment", "cart_data"] as const;
export type CartDataType = (typeof CART_DATA_TYPES)[number];

/** Route options of a mapping; at most one may be true on a route. */
export const MAPPING_OPTIONS = [
  "websocket",
  "health",
  "gone",
  "forbidden",
  "noproxy",
  "redirect",
  "file",
  "tohttps",
] as const;
export type MappingOption = (typeof MAPPING_OPTIONS)[number];

/** Cartridge names that would collide with the gear's own directories (~/app-root, ~/git). */
export const RESERVED_CARTRIDGE_NAMES: readonly string[] = ["app-root", "git"];
/** Vendor names third-party cartridges may not use (as in OpenShift). */
export const RESERVED_VENDOR_NAMES: readonly string[] = ["redhat"];

/** `bin/control` actions the platform calls on every cartridge; never list them in Additional-Control-Actions. */
export const STANDARD_CONTROL_ACTIONS = [
  "start",
  "stop",
  "restart",
  "reload",
  "status",
  "tidy",
  "pre-build",
  "build",
  "deploy",
  "post-deploy",
  "update-configuration",
  "pre-receive",
  "post-receive",
  "pre-repo-archive",
  "pre-snapshot",
  "post-snapshot",
  "pre-restore",
  "post-restore",
] as const;

/** Scripts in `bin/`: control is required, the others optional; each must be executable when present. */
export const CARTRIDGE_SCRIPTS = [
  "control",
  "setup",
  "install",
  "post_install",
  "teardown",
  "upgrade",
  "metrics",
] as const;
export type CartridgeScript = (typeof CARTRIDGE_SCRIPTS)[number];
/** Scripts a cartridge must have. */
export const REQUIRED_SCRIPTS = ["control"] as const satisfies readonly CartridgeScript[];

/** Scaling limits (defaults applied). */
export interface Scaling {
  /** Fewest gears; 0 only for the `external` category. @default 1 */
  readonly Min: number;
  /** Most gears, -1 = unlimited. @default -1 */
  readonly Max: number;
  /** Install on every Nth gear of the group. @default 1 */
  readonly Multiplier: number;
  /** Only works in scalable applications. @default false */
  readonly Required: boolean;
}

/** One documented data item of `Cart-Data`. */
export interface CartDataEntry {
  readonly Key: string;
  readonly Type: CartDataType;
  readonly Description?: string;
}

/** A published or subscribed event: `Type` is matched between publisher and subscriber. */
export interface Connector {
  /** e.g. `NET_TCP:db:mysql`, `ENV:*`. */
  readonly Type: string;
  readonly Required?: boolean;
}

/** Event name (= hook script name `hooks/<event>`) → connector. */
export type Connectors = Readonly<Record<string, Connector>>;

export interface GroupOverride {
  readonly components: readonly string[];
}

export interface Component {
  readonly Publishes?: Connectors;
  readonly Subscribes?: Connectors;
  readonly Scaling?: Scaling;
}

export interface EndpointOptions {
  readonly primary?: boolean;
  readonly ssl_to_gear?: boolean;
}

export type MappingOptions = { readonly [K in MappingOption]?: boolean };

/** A frontend route: `Frontend` path on the app's host name → `Backend` path on the endpoint. */
export interface Mapping {
  /** `""` (root) or a path starting with `/`. */
  readonly Frontend: string;
  /** `""` (root) or a path starting with `/`; `""` when omitted. */
  readonly Backend?: string;
  readonly Options?: MappingOptions;
}

/**
 * A service the cartridge binds. After validation, Private-IP-Name, Private-Port-Name and Private-Port are
 * either all present or all absent (see {@link hasPrivateAddress}); Public-Port-Name, WebSocket-* and
 * Mappings only occur together with them.
 */
export interface Endpoint {
  readonly "Private-IP-Name"?: string;
  readonly "Private-Port-Name"?: string;
  readonly "Private-Port"?: number;
  readonly "Public-Port-Name"?: string;
  readonly "WebSocket-Port-Name"?: string;
  readonly "WebSocket-Port"?: number;
  /** Default: `[http]` with Mappings, else `[tcp]` (see {@link endpointProtocols}). */
  readonly Protocols?: readonly Protocol[];
  readonly Options?: EndpointOptions;
  readonly Mappings?: readonly Mapping[];
  readonly Description?: string;
}

/** An endpoint with its private address. */
export type PrivateEndpoint = Endpoint & {
  readonly "Private-IP-Name": string;
  readonly "Private-Port-Name": string;
  readonly "Private-Port": number;
};

export function hasPrivateAddress(endpoint: Endpoint): endpoint is PrivateEndpoint {
  return (
    endpoint["Private-IP-Name"] !== undefined &&
    endpoint["Private-Port-Name"] !== undefined &&
    endpoint["Private-Port"] !== undefined
  );
}

/** Protocols of an endpoint, with OpenShift's default: `[http]` when it has Mappings, else `[tcp]`. */
export function endpointProtocols(endpoint: Endpoint): readonly Protocol[] {
  if (endpoint.Protocols) return endpoint.Protocols;
  return endpoint.Mappings !== undefined ? ["http"] : ["tcp"];
}

/** A validated `metadata/manifest.yml` (defaults applied). */
export interface Manifest {
  readonly Name: string;
  readonly "Cartridge-Short-Name": string;
  readonly "Cartridge-Version": string;
  readonly "Cartridge-Vendor": string;
  readonly "Compatible-Versions"?: readonly string[];
  /** Default software version. */
  readonly Version: string;
  /** Supported software versions; see {@link softwareVersions} for the full list including Version. */
  readonly Versions?: readonly string[];
  readonly "Version-Overrides"?: Readonly<Record<string, VersionOverride>>;
  readonly "Display-Name"?: string;
  readonly Description?: string;
  readonly License?: string;
  readonly "License-Url"?: string;
  readonly Vendor?: string;
  readonly Website?: string;
  readonly "Help-Topics"?: Readonly<Record<string, string>>;
  readonly "Cart-Data"?: readonly CartDataEntry[];
  /** @default [] */
  readonly Categories: readonly string[];
  /** @default [] */
  readonly Provides: readonly string[];
  /** @default [] */
  readonly Requires: readonly string[];
  /** @default [] */
  readonly Conflicts: readonly string[];
  /** @default [] */
  readonly Suggests: readonly string[];
  /** Debian packages the node needs. @default [] */
  readonly "Native-Requires": readonly string[];
  readonly Architecture?: string;
  /** @default false */
  readonly Obsolete: boolean;
  readonly Publishes?: Connectors;
  readonly Subscribes?: Connectors;
  /** @default { Min: 1, Max: -1, Multiplier: 1, Required: false } */
  readonly Scaling: Scaling;
  readonly "Group-Overrides"?: readonly GroupOverride[];
  readonly Components?: Readonly<Record<string, Component>>;
  readonly "Configure-Order"?: readonly string[];
  /** @default [] */
  readonly Endpoints: readonly Endpoint[];
  /** @default [] */
  readonly "Additional-Control-Actions": readonly string[];
  /** @default false */
  readonly "Install-Build-Required": boolean;
  readonly "Source-Url"?: string;
  readonly "Source-Md5"?: string;
  /** Reserved: accepted, not used yet. */
  readonly Metrics?: readonly string[];
}

/** Keys one software version replaces (no defaults are applied inside an override, except in Scaling). */
export type VersionOverride = { readonly [K in OverridableKey]?: Manifest[K] };

/** A validated `metadata/managed_files.yml` (every list defaults to []). */
export interface ManagedFiles {
  readonly locked_files: readonly string[];
  readonly snapshot_exclusions: readonly string[];
  readonly restore_transforms: readonly string[];
  readonly processed_templates: readonly string[];
  readonly setup_rewritten: readonly string[];
}
