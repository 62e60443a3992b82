// Shared helpers for the cartridge tests: fixtures, problem lists, throwaway copies of fixture directories.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { formatProblem, manifestTextProblems, type CartridgeProblem } from "../../../cartridges/manifest";

export const FIXTURES = path.join(__dirname, "../../fixtures/cartridges");

/** Untyped on purpose: the tests mutate manifests freely to build invalid ones. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Raw = Record<string, any>;

export function fixtureText(name: "minimal" | "full" | "broken"): string {
  return fs.readFileSync(path.join(FIXTURES, name, "metadata/manifest.yml"), "utf8");
}

export function fixtureManifest(name: "minimal" | "full"): Raw {
  return YAML.parse(fixtureText(name));
}

/** Problems of a manifest given as an object (written out as YAML, so positions are checked too). */
export function problemsOf(manifest: unknown): CartridgeProblem[] {
  return manifestTextProblems(YAML.stringify(manifest), "manifest.yml").problems;
}

/** `<path>: <message>` of each problem (the file name is always manifest.yml here). */
export function linesOf(manifest: unknown): string[] {
  return problemsOf(manifest).map((p) => `${p.path}: ${p.message}`);
}

export function textProblems(text: string): string[] {
  return manifestTextProblems(text, "manifest.yml").problems.map(formatProblem);
}

/** A throwaway copy of a fixture cartridge directory (modes kept); removed by {@link cleanUp}. */
const made: string[] = [];
export function copyFixture(name: "minimal" | "full" | "broken"): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-cart-"));
  made.push(root);
  const dir = path.join(root, name);
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

export function cleanUp(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
