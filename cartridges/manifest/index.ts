// Cartridge metadata (OpenShift v2 format): parse and validate metadata/manifest.yml and
// metadata/managed_files.yml. Pure. This is the way in for code outside cartridges/manifest/; the cartridge
// directory checks (I/O) are in cartridges/directory/. The JSON schemas in schema/ drive both ajv and the
// types; the rules a schema cannot express are in rules.ts. Every problem is collected and reported at
// once, one line each:
//   <file>: <key path>: <what was expected> (<fix>)
import { deepFreeze } from "../../common/deep-freeze";
import type { ManagedFiles, Manifest } from "../schema/manifest";
import { CartridgeError, toProblems, type CartridgeProblem, type Finding } from "./problems";
import { crossKeyFindings } from "./rules";
import { checkManagedFilesSchema, checkManifestSchema } from "./schema";
import { parseYaml } from "./yaml";

export * from "../schema/manifest";
export { CartridgeError, formatProblem, type CartridgeProblem } from "./problems";
export {
  cartridgeVariable,
  ENDPOINT_NAME_KEYS,
  NODE_CARTRIDGE_VARIABLES,
  RESERVED_SHORT_NAMES,
} from "./variables";
export { cartridgeIdent, manifestForVersion, softwareVersions } from "./versions";

/**
 * Parses and validates the text of a metadata/manifest.yml. `file` names it in problems. Returns the
 * manifest with defaults applied, deeply frozen; throws {@link CartridgeError} listing every problem
 * (YAML syntax errors with line and column; other problems with their key path and line).
 */
export function parseManifest(text: string, file: string): Manifest {
  const problems = manifestTextProblems(text, file);
  if (problems.problems.length > 0) throw new CartridgeError(problems.problems);
  return problems.manifest as Manifest;
}

/** Like {@link parseManifest} but returns the problems instead of throwing; `manifest` is set when there are none. */
export function manifestTextProblems(
  text: string,
  file: string,
): { manifest?: Manifest; problems: CartridgeProblem[] } {
  const parsed = parseYaml(text);
  if (parsed.findings.length > 0) return { problems: toProblems(parsed.findings, file, parsed.locate) };
  const { value, findings } = checkManifest(parsed.value);
  const problems = toProblems([...parsed.keyFindings, ...findings], file, parsed.locate);
  return problems.length > 0 ? { problems } : { manifest: value as Manifest, problems };
}

/** Parses and validates the text of a metadata/managed_files.yml (every list defaults to []). */
export function parseManagedFiles(text: string, file: string): ManagedFiles {
  const parsed = parseYaml(text, true);
  const checked =
    parsed.findings.length > 0
      ? { value: undefined, findings: parsed.findings }
      : checkManagedFilesSchema(parsed.value ?? {});
  checked.findings.unshift(...parsed.keyFindings);
  const problems = toProblems(checked.findings, file, parsed.locate);
  if (problems.length > 0) throw new CartridgeError(problems);
  return deepFreeze(checked.value) as ManagedFiles;
}

/** Schema, then the cross-key rules; both always run so every problem shows in one pass. */
function checkManifest(raw: unknown): { value: unknown; findings: Finding[] } {
  const checked = checkManifestSchema(raw);
  const findings = [...checked.findings, ...crossKeyFindings(checked.value)];
  return { value: deepFreeze(checked.value), findings };
}
