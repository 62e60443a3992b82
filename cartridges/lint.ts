// `geartrain cartridge lint`: check cartridge directories and report every problem, one line each.
import { inspectCartridge, type LoadCartridgeOptions, type LoadedCartridge } from "./directory";
import { cartridgeIdent, formatProblem, type CartridgeProblem } from "./manifest";

/** What lint found in one cartridge directory. */
export interface LintResult {
  /** The directory as given. */
  readonly dir: string;
  /** Every problem; empty when the cartridge is valid. */
  readonly problems: readonly CartridgeProblem[];
  /** The checked cartridge, when there are no problems. */
  readonly cartridge?: LoadedCartridge;
}

/** Checks each directory in turn (one at a time: it is I/O on a few small files). */
export async function lintCartridges(
  dirs: readonly string[],
  options: LoadCartridgeOptions = {},
): Promise<LintResult[]> {
  const results: LintResult[] = [];
  for (const dir of dirs) {
    const { cartridge, problems } = await inspectCartridge(dir, options);
    results.push(cartridge ? { dir, problems, cartridge } : { dir, problems });
  }
  return results;
}

/**
 * Human-readable report: every problem as `<file>: <key path>: <expected> (<fix>)`, an `ok` line per valid
 * cartridge, and a summary line last.
 */
export function formatLintResults(results: readonly LintResult[]): string[] {
  const lines: string[] = [];
  for (const result of results) {
    if (result.cartridge) lines.push(`${result.dir}: ok (${cartridgeIdent(result.cartridge.manifest)})`);
    else lines.push(...result.problems.map(formatProblem));
  }
  const bad = results.filter((r) => !r.cartridge);
  const problemCount = bad.reduce((n, r) => n + r.problems.length, 0);
  const checked = results.length === 1 ? "1 cartridge checked" : `${results.length} cartridges checked`;
  lines.push(
    bad.length === 0
      ? `${checked}, no problems`
      : `${checked}, ${bad.length} with problems (${problemCount === 1 ? "1 problem" : `${problemCount} problems`})`,
  );
  return lines;
}
