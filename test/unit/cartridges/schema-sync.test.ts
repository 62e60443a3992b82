// The schemas are the source of truth; the TypeScript types mirror them. These tests fail when one changes
// without the other (Record<keyof T, true> literals also fail to compile when T gains or loses a key).
import managedFilesSchema from "../../../cartridges/schema/managed-files.schema.json";
import manifestSchema from "../../../cartridges/schema/manifest.schema.json";
import {
  CART_DATA_TYPES,
  MAPPING_OPTIONS,
  OVERRIDABLE_KEYS,
  PROTOCOLS,
  REQUIRED_KEYS,
  RESERVED_SHORT_NAMES,
  type CartDataEntry,
  type Component,
  type Connector,
  type Endpoint,
  type EndpointOptions,
  type GroupOverride,
  type ManagedFiles,
  type Manifest,
  type Mapping,
  type MappingOption,
  type Scaling,
  type VersionOverride,
} from "../../../cartridges/manifest";
import { defaultConfig } from "../../../node/config";
import { systemEnv } from "../../../node/gear/env";

type Schema = { properties?: Record<string, Schema>; [key: string]: unknown };
const defs = manifestSchema.$defs as unknown as Record<string, Schema>;
const fieldsOf = (schema: Schema) => Object.keys(schema.properties ?? {}).sort();

const manifestKeys: Record<keyof Manifest, true> = {
  Name: true,
  "Cartridge-Short-Name": true,
  "Cartridge-Version": true,
  "Cartridge-Vendor": true,
  "Compatible-Versions": true,
  Version: true,
  Versions: true,
  "Version-Overrides": true,
  "Display-Name": true,
  Description: true,
  License: true,
  "License-Url": true,
  Vendor: true,
  Website: true,
  "Help-Topics": true,
  "Cart-Data": true,
  Categories: true,
  Provides: true,
  Requires: true,
  Conflicts: true,
  Suggests: true,
  "Native-Requires": true,
  Architecture: true,
  Obsolete: true,
  Publishes: true,
  Subscribes: true,
  Scaling: true,
  "Group-Overrides": true,
  Components: true,
  "Configure-Order": true,
  Endpoints: true,
  "Additional-Control-Actions": true,
  "Install-Build-Required": true,
  "Source-Url": true,
  "Source-Md5": true,
  Metrics: true,
};
const overrideKeys: Record<keyof VersionOverride, true> = Object.fromEntries(
  OVERRIDABLE_KEYS.map((k) => [k, true]),
) as Record<keyof VersionOverride, true>;
const endpointKeys: Record<keyof Endpoint, true> = {
  "Private-IP-Name": true,
  "Private-Port-Name": true,
  "Private-Port": true,
  "Public-Port-Name": true,
  "WebSocket-Port-Name": true,
  "WebSocket-Port": true,
  Protocols: true,
  Options: true,
  Mappings: true,
  Description: true,
};
const endpointOptionKeys: Record<keyof EndpointOptions, true> = { primary: true, ssl_to_gear: true };
const mappingKeys: Record<keyof Mapping, true> = { Frontend: true, Backend: true, Options: true };
const mappingOptionKeys: Record<MappingOption, true> = Object.fromEntries(
  MAPPING_OPTIONS.map((k) => [k, true]),
) as Record<MappingOption, true>;
const scalingKeys: Record<keyof Scaling, true> = { Min: true, Max: true, Multiplier: true, Required: true };
const cartDataKeys: Record<keyof CartDataEntry, true> = { Key: true, Type: true, Description: true };
const connectorKeys: Record<keyof Connector, true> = { Type: true, Required: true };
const groupOverrideKeys: Record<keyof GroupOverride, true> = { components: true };
const componentKeys: Record<keyof Component, true> = { Publishes: true, Subscribes: true, Scaling: true };
const managedFilesKeys: Record<keyof ManagedFiles, true> = {
  locked_files: true,
  snapshot_exclusions: true,
  restore_transforms: true,
  processed_templates: true,
  setup_rewritten: true,
};

describe("schema and TypeScript types stay in sync", () => {
  it.each([
    ["manifest", manifestSchema as unknown as Schema, manifestKeys],
    ["versionOverride", defs.versionOverride!, overrideKeys],
    ["endpoint", defs.endpoint!, endpointKeys],
    ["endpointOptions", defs.endpointOptions!, endpointOptionKeys],
    ["mapping", defs.mapping!, mappingKeys],
    ["mappingOptions", defs.mappingOptions!, mappingOptionKeys],
    ["scaling", defs.scaling!, scalingKeys],
    ["cartDataEntry", defs.cartDataEntry!, cartDataKeys],
    ["connector", defs.connector!, connectorKeys],
    ["groupOverride", defs.groupOverride!, groupOverrideKeys],
    ["component", defs.component!, componentKeys],
    ["managed files", managedFilesSchema as unknown as Schema, managedFilesKeys],
  ])("%s has the same keys in schema and type", (_name, schema, keys) => {
    expect(fieldsOf(schema)).toEqual(Object.keys(keys).sort());
  });

  it("overridable keys are manifest keys, in the same order as in the schema", () => {
    expect(Object.keys(defs.versionOverride!.properties!)).toEqual([...OVERRIDABLE_KEYS]);
    for (const key of OVERRIDABLE_KEYS) expect(manifestSchema.properties).toHaveProperty([key]);
  });

  it("required keys and enums match", () => {
    expect(manifestSchema.required).toEqual([...REQUIRED_KEYS]);
    const protocols = (defs.endpoint!.properties!.Protocols as Schema).items as Schema;
    expect(protocols.enum).toEqual([...PROTOCOLS]);
    expect((defs.cartDataEntry!.properties!.Type as Schema).enum).toEqual([...CART_DATA_TYPES]);
  });

  it("defaults in the schema are the ones the types document", () => {
    const props = manifestSchema.properties as unknown as Record<string, Schema>;
    const withDefaults = Object.fromEntries(
      Object.entries(props)
        .filter(([, s]) => s.default !== undefined)
        .map(([k, s]) => [k, s.default]),
    );
    expect(withDefaults).toEqual({
      Categories: [],
      Provides: [],
      Requires: [],
      Conflicts: [],
      Suggests: [],
      "Native-Requires": [],
      Obsolete: false,
      Scaling: { Min: 1, Max: -1, Multiplier: 1, Required: false },
      Endpoints: [],
      "Additional-Control-Actions": [],
      "Install-Build-Required": false,
    });
    const scaling = defs.scaling!.properties!;
    expect(Object.fromEntries(Object.entries(scaling).map(([k, s]) => [k, s.default]))).toEqual(
      props.Scaling!.default,
    );
  });

  it("every object is closed, every key described", () => {
    const missing: string[] = [];
    const walk = (schema: Schema, where: string, root: Schema) => {
      const rootDefs = (root.$defs ?? {}) as Record<string, Schema>;
      if (schema.properties) {
        if (schema.additionalProperties !== false) missing.push(`${where}: additionalProperties`);
        for (const [field, child] of Object.entries(schema.properties)) {
          const target =
            typeof child.$ref === "string" ? rootDefs[child.$ref.replace("#/$defs/", "")] : undefined;
          if (typeof child.description !== "string" && typeof target?.description !== "string")
            missing.push(`${where}.${field}: description`);
          walk(child, `${where}.${field}`, root);
        }
      }
      if (schema.items) walk(schema.items as Schema, `${where}[]`, root);
    };
    for (const root of [manifestSchema as unknown as Schema, managedFilesSchema as unknown as Schema]) {
      walk(root, String(root.title), root);
      for (const [name, def] of Object.entries((root.$defs ?? {}) as Record<string, Schema>)) {
        if (typeof def.description !== "string") missing.push(`$defs.${name}: description`);
        walk(def, `$defs.${name}`, root);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("reserved short names", () => {
  it("cover every variable the node writes into a gear", () => {
    const config = defaultConfig();
    const spec = {
      uuid: "0".repeat(32),
      uid: 1000,
      app: "app",
      namespace: "ns",
      profile: config.defaultProfile,
      env: {},
    };
    const names = Object.keys(systemEnv(spec, config)).filter((n) => n.startsWith(config.envPrefix));
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const first = name.slice(config.envPrefix.length).split("_")[0]!;
      expect({ name, reserved: RESERVED_SHORT_NAMES.includes(first) }).toEqual({ name, reserved: true });
    }
  });
});
