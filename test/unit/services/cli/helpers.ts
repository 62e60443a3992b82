import { mkdtempSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import type { CliContext } from "../../../../services/cli/base";

export interface TestCli {
  ctx: CliContext;
  out: string[];
  err: string[];
  stdin: { text: string };
  home: string;
  cleanup(): void;
}

export function testCli(): TestCli {
  const home = mkdtempSync(path.join(os.tmpdir(), "geartrain-cli-"));
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
    progressMs: 20,
  };
  return { ctx, out, err, stdin, home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}
