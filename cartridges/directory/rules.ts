// Pure checks of the files in a cartridge directory: env/ file names and Handlebars template syntax.
import Handlebars from "handlebars";
import { DEFAULT_ENV_PREFIX, ENV_NAME_PATTERN, RESERVED_ENV_NAMES } from "../../common/env-names";
import {
  ENDPOINT_NAME_KEYS,
  NODE_CARTRIDGE_VARIABLES,
  type CartridgeProblem,
  type Manifest,
} from "../manifest";

/** Why an env/ file name cannot be a cartridge variable, or undefined when it can. */
export function envNameProblem(
  name: string,
  manifest: Manifest | undefined,
  prefix: string = DEFAULT_ENV_PREFIX,
): string | undefined {
  if (!ENV_NAME_PATTERN.test(name))
    return `expected a file named after an environment variable (upper-case letters, digits and '_', not starting with a digit), got "${name}" (rename the file)`;
  if (RESERVED_ENV_NAMES.includes(name)) {
    const element =
      name === "PATH" || name === "LD_LIBRARY_PATH"
        ? `; to add to it, use ${prefix}${manifest?.["Cartridge-Short-Name"] ?? "<SHORT>"}_${name}_ELEMENT`
        : "";
    return `expected a variable the cartridge may set, got ${name}, which the node sets (remove the file${element})`;
  }
  if (!name.startsWith(prefix)) return undefined;
  if (!manifest) return undefined; // cannot tell the cartridge's own namespace without a valid manifest
  const own = `${prefix}${manifest["Cartridge-Short-Name"]}_`;
  if (!name.startsWith(own))
    return `expected a variable outside the platform's ${prefix}* namespace, or in the cartridge's own ${own}*, got ${name} (rename it, e.g. ${own}${name.slice(prefix.length)})`;
  const rest = name.slice(own.length);
  const endpointNames = new Set<string>();
  for (const endpoint of manifest.Endpoints)
    for (const key of ENDPOINT_NAME_KEYS) {
      const value = endpoint[key];
      if (typeof value === "string") endpointNames.add(value);
    }
  if (NODE_CARTRIDGE_VARIABLES.includes(rest) || endpointNames.has(rest))
    return `expected a variable the node does not set itself, got ${name} (${
      endpointNames.has(rest)
        ? "an endpoint in the manifest names it"
        : "the node writes it for every cartridge"
    }; remove the file or rename it)`;
  return undefined;
}

/** A Handlebars syntax problem in `text`, if any; `file` names it. */
export function templateProblem(text: string, file: string): CartridgeProblem | undefined {
  try {
    Handlebars.parse(text);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const lines = message.split("\n").map((l) => l.trim());
    const lineMatch = /line (\d+)/.exec(lines[0] ?? "") ?? /- (\d+):(\d+)$/.exec(lines[0] ?? "");
    const line = lineMatch ? Number(lineMatch[1]) : undefined;
    const detail = lines.length > 1 ? lines[lines.length - 1] : lines[0];
    const problem: CartridgeProblem = {
      file,
      path: line !== undefined ? `line ${line}` : "",
      message: `expected a valid Handlebars template, got: ${detail} (fix the {{...}} syntax there)`,
    };
    return line !== undefined ? { ...problem, line } : problem;
  }
}
