// What a cartridge check reports: one CartridgeProblem per thing wrong, tied to a file and a key path, and
// the CartridgeError that carries them all. Checks first collect Findings (key path + message) and turn them
// into problems once the file and the key positions are known.
import { dedupeProblems, fieldPath, type PathSegment } from "../../common/ajv-errors";
import { EXIT, GeartrainError } from "../../common/errors";

/** One thing wrong with a cartridge: which file, where in it, what was expected and how to fix it. */
export interface CartridgeProblem {
  /** The file, as reached from the directory the caller gave (e.g. `carts/php/metadata/manifest.yml`). */
  readonly file: string;
  /** Key path such as `Endpoints[1].Private-Port`; `line 3, column 5` for syntax errors; `""` for the whole file. */
  readonly path: string;
  /** `<what was expected> (<fix>)`. */
  readonly message: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
  /** 1-based column in the file, when known. */
  readonly column?: number;
}

/** `<file>: <path>: <message>`, or `<file>: <message>` for problems about a whole file. */
export function formatProblem(problem: CartridgeProblem): string {
  return problem.path === ""
    ? `${problem.file}: ${problem.message}`
    : `${problem.file}: ${problem.path}: ${problem.message}`;
}

/** Thrown when a manifest or a cartridge directory is invalid; `problems` lists every problem found. */
export class CartridgeError extends GeartrainError {
  readonly problems: readonly CartridgeProblem[];

  constructor(problems: readonly CartridgeProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`Invalid cartridge (${count}):\n` + problems.map((p) => `  - ${formatProblem(p)}`).join("\n"), {
      kind: "invalid_cartridge",
      exitCode: EXIT.INVALID,
      httpStatus: 400,
    });
    this.problems = problems;
  }

  override details(): Record<string, unknown> {
    return { problems: this.problems };
  }
}

/** A problem found before it is tied to a file: segments of the key path and the message. */
export interface Finding {
  readonly at: readonly PathSegment[];
  readonly message: string;
  /** Known position (syntax errors); otherwise looked up from `at`. */
  readonly line?: number;
  readonly column?: number;
  /** Path text instead of the key path (syntax errors). */
  readonly where?: string;
}

export type Locate = (at: readonly PathSegment[]) => { line: number; column: number } | undefined;

export function toProblems(findings: readonly Finding[], file: string, locate?: Locate): CartridgeProblem[] {
  const problems = findings.map((f): CartridgeProblem => {
    const pos = f.line !== undefined ? { line: f.line, column: f.column ?? 1 } : locate?.(f.at);
    const problem: CartridgeProblem = { file, path: f.where ?? fieldPath(f.at), message: f.message };
    return pos ? { ...problem, line: pos.line, column: pos.column } : problem;
  });
  // In file order (stable: problems without a line, such as missing keys, come first in finding order).
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return dedupeProblems(problems);
}
