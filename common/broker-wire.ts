// The broker REST API's request bodies that clients build too (pure data): the name patterns and the JSON
// schemas of creating a domain or an application, adding a cartridge and setting variables. The broker
// validates with these very objects (services/broker/rest/schemas.ts SCHEMAS), and the Pulumi providers'
// `check` validates the body it would send with them (providers/application/model.ts), so a bad value
// fails in `preview` with the broker's own rule, before anything is created.

/** DNS label parts: `<app>-<namespace>` must stay one label (≤ 63). Lowercase, as node/validate.ts. */
export const APP_NAME = "^[a-z][a-z0-9]{0,31}$";
export const NAMESPACE = "^[a-z][a-z0-9]{0,15}$";
export const CARTRIDGE_NAME = "^[a-z][a-z0-9]*(-[A-Za-z0-9._]+)+$";
export const KEY_NAME = "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$";
export const ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]{0,127}$";
export const LOGIN = "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$";
export const PROFILE = "^[a-z][a-z0-9-]{0,31}$";
export const DISTRICT_NAME = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
export const NODE_NAME = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

const str = (pattern: string, description: string) => ({ type: "string", pattern, description });

export const envVar = {
  type: "object",
  required: ["name"],
  properties: {
    name: str(ENV_NAME, "variable name"),
    value: { type: "string", maxLength: 512, description: "value; absent to unset (PATCH)" },
  },
};

/** Request bodies the broker checks (draft-07 and 2020-12 alike: no draft-specific keywords). */
export const WIRE_SCHEMAS = {
  addDomain: {
    type: "object",
    properties: {
      name: str(NAMESPACE, "the namespace"),
      id: str(NAMESPACE, "the namespace (what rhc sends)"),
    },
    anyOf: [{ required: ["name"] }, { required: ["id"] }],
  },
  addApplication: {
    type: "object",
    required: ["name"],
    properties: {
      name: str(APP_NAME, "name of the application"),
      cartridges: {
        type: "array",
        minItems: 1,
        maxItems: 8,
        items: {
          anyOf: [
            str(CARTRIDGE_NAME, "a cartridge name"),
            {
              type: "object",
              required: ["name"],
              properties: { name: str(CARTRIDGE_NAME, "a cartridge name") },
            },
          ],
        },
      },
      // below API 1.3 rhc sent one "cartridge"
      cartridge: str(CARTRIDGE_NAME, "one cartridge name (old clients)"),
      environment_variables: {
        type: "array",
        maxItems: 64,
        items: { ...envVar, required: ["name", "value"] },
      },
      gear_profile: str(PROFILE, "gear size"),
      scale: { type: "boolean" },
    },
  },
  addCartridge: {
    type: "object",
    properties: {
      name: str(CARTRIDGE_NAME, "cartridge name, e.g. postgresql-15"),
      // rhc below 1.3 / some scripts
      cartridge: str(CARTRIDGE_NAME, "cartridge name"),
    },
    anyOf: [{ required: ["name"] }, { required: ["cartridge"] }],
  },
  setEnv: {
    type: "object",
    required: ["environment_variables"],
    properties: { environment_variables: { type: "array", minItems: 1, maxItems: 64, items: envVar } },
  },
} as const;
