// The environment variables a cartridge's manifest gives rise to: GEARTRAIN_<SHORT>_<name>, where <name> is
// an endpoint's name or one the node sets itself, and the short names that would collide with the gear's.
import { DEFAULT_ENV_PREFIX } from "../../common/env-names";
import type { Manifest } from "../schema/manifest";
/**
 * Short names whose variables would collide with the gear's system variables (GEARTRAIN_APP_DNS,
 * GEARTRAIN_GEAR_UUID, ... written by node/env.ts) or with names the platform keeps for itself.
 */
export const RESERVED_SHORT_NAMES: readonly string[] = [
  "APP",
  "CLOUD",
  "DATA",
  "DEPLOYMENT",
  "GEAR",
  "HOMEDIR",
  "KEEP",
  "LOG",
  "NAMESPACE",
  "NODE",
  "PRIMARY",
  "REPO",
  "TMP",
];

/** Variable names (after GEARTRAIN_<SHORT>_) the node sets for every cartridge; endpoints cannot use them. */
export const NODE_CARTRIDGE_VARIABLES: readonly string[] = ["DIR", "IDENT"];

/** Endpoint keys whose value names a variable (GEARTRAIN_<SHORT>_<value>). */
export const ENDPOINT_NAME_KEYS = [
  "Private-IP-Name",
  "Private-Port-Name",
  "Public-Port-Name",
  "WebSocket-Port-Name",
] as const;

/** Environment variable for a cartridge variable name, e.g. (PHP, HTTP_PORT) → GEARTRAIN_PHP_HTTP_PORT. */
export function cartridgeVariable(
  manifest: Manifest,
  name: string,
  prefix: string = DEFAULT_ENV_PREFIX,
): string {
  return `${prefix}${manifest["Cartridge-Short-Name"]}_${name}`;
}
