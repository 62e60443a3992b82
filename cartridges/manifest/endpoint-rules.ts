// Cross-key rules of Endpoints: the private address trio, unique variable names, one binding per address
// and port, one primary endpoint, and routes that do not collide.
import { DEFAULT_ENV_PREFIX } from "../../common/env-names";
import { fieldPath, isRecord, type PathSegment } from "../../common/ajv-errors";
import { MAPPING_OPTIONS } from "../schema/manifest";
import type { Finding } from "./problems";
import { ENDPOINT_NAME_KEYS, NODE_CARTRIDGE_VARIABLES } from "./variables";

const PRIVATE_KEYS = ["Private-IP-Name", "Private-Port-Name", "Private-Port"] as const;
const NEEDS_PRIVATE_KEYS = ["Public-Port-Name", "WebSocket-Port-Name", "WebSocket-Port", "Mappings"] as const;
const EXAMPLES: Record<string, string> = {
  "Private-IP-Name": "Private-IP-Name: IP",
  "Private-Port-Name": "Private-Port-Name: PORT",
  "Private-Port": "Private-Port: 8080",
  "WebSocket-Port-Name": "WebSocket-Port-Name: WEBSOCKET_PORT",
  "WebSocket-Port": "WebSocket-Port: 8000",
};

/**
 * Problems of `endpoints` (a manifest's or one version's Endpoints, found at `base`); `shortName` is the
 * manifest's Cartridge-Short-Name, for the variable names in messages.
 */
export function endpointRules(endpoints: unknown, base: PathSegment[], shortName: unknown): Finding[] {
  if (!Array.isArray(endpoints)) return [];
  const short = typeof shortName === "string" ? shortName : "<SHORT>";
  const variable = (name: string) => `${DEFAULT_ENV_PREFIX}${short}_${name}`;
  const findings: Finding[] = [];
  const names = new Map<string, { key: string; index: number }>();
  const bindings = new Map<string, number>();
  const frontends = new Map<string, string>();
  let primary: number | undefined;

  endpoints.forEach((endpoint, i) => {
    if (!isRecord(endpoint)) return;
    const at = [...base, i];
    const present = PRIVATE_KEYS.filter((key) => endpoint[key] !== undefined);

    // Any of the private trio needs all three.
    if (present.length > 0 && present.length < PRIVATE_KEYS.length)
      for (const key of PRIVATE_KEYS.filter((k) => !present.includes(k)))
        findings.push({
          at: [...at, key],
          message: `missing; expected it because ${present.join(" and ")} ${present.length === 1 ? "is" : "are"} set: an endpoint with any of Private-IP-Name, Private-Port-Name, Private-Port needs all three (add it, e.g. ${EXAMPLES[key]})`,
        });

    // Public port, WebSocket port and routes all point at the private address.
    if (present.length === 0)
      for (const key of NEEDS_PRIVATE_KEYS.filter((k) => endpoint[k] !== undefined))
        findings.push({
          at: [...at, key],
          message: `expected only on an endpoint with Private-IP-Name, Private-Port-Name and Private-Port, which ${key} refers to (add those three to this endpoint, or remove ${key})`,
        });

    // WebSocket-Port-Name and WebSocket-Port go together.
    const wsName = endpoint["WebSocket-Port-Name"] !== undefined;
    const wsPort = endpoint["WebSocket-Port"] !== undefined;
    if (wsName !== wsPort) {
      const [has, missing] = wsName
        ? ["WebSocket-Port-Name", "WebSocket-Port"]
        : ["WebSocket-Port", "WebSocket-Port-Name"];
      findings.push({
        at: [...at, missing],
        message: `missing; expected it because ${has} is set (add it, e.g. ${EXAMPLES[missing]}, or remove ${has})`,
      });
    }

    // Every name becomes GEARTRAIN_<SHORT>_<name>: unique, except that endpoints may share an IP.
    for (const key of ENDPOINT_NAME_KEYS) {
      const name = endpoint[key];
      if (typeof name !== "string") continue;
      if (NODE_CARTRIDGE_VARIABLES.includes(name)) {
        findings.push({
          at: [...at, key],
          message: `expected a name other than ${NODE_CARTRIDGE_VARIABLES.join(" and ")}, got "${name}" (the node sets ${variable(name)} itself; rename it)`,
        });
        continue;
      }
      const first = names.get(name);
      if (first === undefined) names.set(name, { key, index: i });
      else if (!(key === "Private-IP-Name" && first.key === "Private-IP-Name"))
        findings.push({
          at: [...at, key],
          message: `expected a unique name, got "${name}", already the ${first.key} of ${fieldPath([...base, first.index])}; both would set ${variable(name)} (rename one)`,
        });
    }

    // One IP and port can only be bound once.
    const ip = endpoint["Private-IP-Name"];
    const port = endpoint["Private-Port"];
    if (typeof ip === "string" && Number.isInteger(port)) {
      const binding = `${ip}:${String(port)}`;
      const first = bindings.get(binding);
      if (first === undefined) bindings.set(binding, i);
      else
        findings.push({
          at: [...at, "Private-Port"],
          message: `expected a distinct Private-IP-Name and Private-Port pair, got ${binding}, already bound by ${fieldPath([...base, first])} (change the port or use another Private-IP-Name)`,
        });
    }

    // At most one primary endpoint.
    if (isRecord(endpoint.Options) && endpoint.Options.primary === true) {
      if (primary === undefined) primary = i;
      else
        findings.push({
          at: [...at, "Options", "primary"],
          message: `expected at most one endpoint with primary: true, got a second one (${fieldPath([...base, primary])} is already primary; remove primary from one of them)`,
        });
    }

    // Routes: one frontend path per cartridge, at most one route option each.
    const mappings = Array.isArray(endpoint.Mappings) ? endpoint.Mappings : [];
    mappings.forEach((mapping, j) => {
      if (!isRecord(mapping)) return;
      const mat = [...at, "Mappings", j];
      if (typeof mapping.Frontend === "string") {
        const first = frontends.get(mapping.Frontend);
        const here = fieldPath(mat);
        if (first === undefined) frontends.set(mapping.Frontend, here);
        else
          findings.push({
            at: [...mat, "Frontend"],
            message: `expected a Frontend path no other route uses, got ${JSON.stringify(mapping.Frontend)}, already routed by ${first} (change the path or remove one route)`,
          });
      }
      if (isRecord(mapping.Options)) {
        const options = mapping.Options;
        const set = MAPPING_OPTIONS.filter((option) => options[option] === true);
        if (set.length > 1)
          findings.push({
            at: [...mat, "Options"],
            message: `expected at most one route option set to true, got ${set.join(" and ")} (they conflict; keep one, and add another mapping for a different path if needed)`,
          });
      }
    });
  });
  return findings;
}
