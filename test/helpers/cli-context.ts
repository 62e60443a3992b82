// A CliContext for running `geartrain` command groups in-process in tests: stdout and stderr lines captured
// in arrays, stdin from `stdin.text`, no TTY, and a home directory of its own under os.tmpdir() (cleanup()
// removes it). Used by the unit tests of services/cli and the integration tests that drive the CLI.

import { mkdtempSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import type { CliContext } from "../../services/cli/base";

export interface TestCli {
  ctx: CliContext;
  out: string[];
  err: string[];
  stdin: { text: string };
  home: string;
  cleanup(): void;
}

/** `prefix` names the home directory; `progressMs` (when given) how often progress lines are printed. */
export function testCli(opts: { prefix?: string; progressMs?: number } = {}): TestCli {
  const home = mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? "geartrain-cli-"));
  const out: string[] = [];
  const err: string[] = [];
  const stdin = { text: "" };
  const ctx: CliContext = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    readStdin: async () => stdin.text,
    stdinIsTTY: false,
    stderrIsTTY: false,
    home,
    ...(opts.progressMs !== undefined ? { progressMs: opts.progressMs } : {}),
  };
  return { ctx, out, err, stdin, home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}
