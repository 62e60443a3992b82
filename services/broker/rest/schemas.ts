// JSON schemas of every request body and path parameter (draft-07, fastify's ajv; no type coercion of
// bodies). The same objects feed the OpenAPI document. `ORIGIN_CODES` gives, per route, the origin broker code
// of a validation failure of each field (105 invalid app name, 106 invalid namespace ...).

import { ORIGIN_CODE } from "../app/errors";
import { APP_EVENTS, CARTRIDGE_EVENTS, KEY_TYPES } from "./links";
import {
  DISTRICT_NAME,
  KEY_NAME,
  LOGIN,
  NODE_NAME,
  PROFILE,
  WIRE_SCHEMAS,
} from "../../../common/broker-wire";

export {
  APP_NAME,
  CARTRIDGE_NAME,
  DISTRICT_NAME,
  ENV_NAME,
  KEY_NAME,
  LOGIN,
  NAMESPACE,
  NODE_NAME,
  PROFILE,
} from "../../../common/broker-wire";

const str = (pattern: string, description: string) => ({ type: "string", pattern, description });

export const SCHEMAS = {
  addKey: {
    type: "object",
    required: ["name", "type", "content"],
    properties: {
      name: str(KEY_NAME, "name of the key"),
      type: { type: "string", enum: KEY_TYPES, description: "key type" },
      content: {
        type: "string",
        pattern: "^[A-Za-z0-9+/]+={0,3}$",
        maxLength: 8192,
        description: "base64 body",
      },
    },
  },
  updateKey: {
    type: "object",
    required: ["type", "content"],
    properties: {
      type: { type: "string", enum: KEY_TYPES },
      content: { type: "string", pattern: "^[A-Za-z0-9+/]+={0,3}$", maxLength: 8192 },
    },
  },
  addAuthorization: {
    type: "object",
    properties: {
      scope: { type: "string", enum: ["session", "read", "userinfo"] },
      note: { type: "string", maxLength: 256 },
      expires_in: { type: "integer", minimum: -1, maximum: 15552000 },
    },
  },
  // rhc always sends {"id": NS}; origin 1.6+ advertises name. Either one.
  addDomain: WIRE_SCHEMAS.addDomain,
  addApplication: WIRE_SCHEMAS.addApplication,
  event: {
    type: "object",
    required: ["event"],
    properties: { event: { type: "string", enum: APP_EVENTS } },
  },
  cartridgeEvent: {
    type: "object",
    required: ["event"],
    properties: { event: { type: "string", enum: CARTRIDGE_EVENTS } },
  },
  addCartridge: WIRE_SCHEMAS.addCartridge,
  setEnv: WIRE_SCHEMAS.setEnv,
  // admin
  addDistrict: {
    type: "object",
    required: ["name", "gear_profile"],
    properties: {
      name: str(DISTRICT_NAME, "district name"),
      gear_profile: str(PROFILE, "gear profile of its nodes"),
      first_uid: { type: "integer", minimum: 1000, maximum: 4294000000 },
      capacity: { type: "integer", minimum: 1, maximum: 100000 },
    },
  },
  addDistrictNode: {
    type: "object",
    required: ["node"],
    properties: { node: str(NODE_NAME, "node identity") },
  },
  districtNodeEvent: {
    type: "object",
    required: ["event"],
    properties: { event: { type: "string", enum: ["activate", "deactivate"] } },
  },
  districtCapacity: {
    type: "object",
    required: ["change"],
    properties: { change: { type: "integer", minimum: -100000, maximum: 100000, not: { const: 0 } } },
  },
  addUser: {
    type: "object",
    required: ["login", "password"],
    properties: {
      login: str(LOGIN, "login"),
      password: { type: "string", minLength: 8, maxLength: 1024 },
      role: { type: "string", enum: ["user", "admin"] },
      max_gears: { type: "integer", minimum: 0, maximum: 100000 },
      max_domains: { type: "integer", minimum: 0, maximum: 1000 },
    },
  },
} as const;

export const PARAMS = {
  domain: {
    type: "object",
    required: ["name"],
    properties: { name: { type: "string", maxLength: 64 } },
  },
  domainApp: {
    type: "object",
    required: ["domain_name", "name"],
    properties: { domain_name: { type: "string", maxLength: 64 }, name: { type: "string", maxLength: 64 } },
  },
  app: { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 64 } } },
  appCartridge: {
    type: "object",
    required: ["id", "name"],
    properties: { id: { type: "string", maxLength: 64 }, name: { type: "string", maxLength: 128 } },
  },
  name: { type: "object", required: ["name"], properties: { name: { type: "string", maxLength: 128 } } },
  id: { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 128 } } },
  districtNode: {
    type: "object",
    required: ["name", "node"],
    properties: { name: { type: "string", maxLength: 64 }, node: { type: "string", maxLength: 128 } },
  },
} as const;

/** Per body schema: origin's code for an invalid value of each field. */
export const ORIGIN_CODES: Partial<Record<keyof typeof SCHEMAS, Record<string, number>>> = {
  addKey: {
    name: ORIGIN_CODE.INVALID_KEY_NAME,
    type: ORIGIN_CODE.INVALID_KEY_TYPE,
    content: ORIGIN_CODE.INVALID_KEY_CONTENT,
  },
  updateKey: { type: ORIGIN_CODE.INVALID_KEY_TYPE, content: ORIGIN_CODE.INVALID_KEY_CONTENT },
  addDomain: { name: ORIGIN_CODE.INVALID_NAMESPACE, id: ORIGIN_CODE.INVALID_NAMESPACE },
  addApplication: {
    name: ORIGIN_CODE.INVALID_APP_NAME,
    cartridges: ORIGIN_CODE.INVALID_CARTRIDGE,
    cartridge: ORIGIN_CODE.INVALID_CARTRIDGE,
  },
  addCartridge: { name: ORIGIN_CODE.INVALID_CARTRIDGE, cartridge: ORIGIN_CODE.INVALID_CARTRIDGE },
  event: { event: ORIGIN_CODE.INVALID_EVENT },
  cartridgeEvent: { event: ORIGIN_CODE.INVALID_EVENT },
};
