// The only way this layer runs host commands: common/exec.ts (an argument array, never a shell) with the
// node's fixed PATH and C locale.

import { OperationFailedError } from "../../common/errors";
import { runProgram } from "../../common/exec";

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A host command that exited with a code it should not have (kind command_failed, exit 1). */
export class CommandError extends OperationFailedError {
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(
      `command failed (exit ${result.code}): ${argv.join(" ")}: ${result.stderr.trim() || result.stdout.trim()}`,
      "command_failed",
    );
  }
}

/** PATH used for host tools, independent of the caller's environment. */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Run a command; resolve with its exit code (never rejects for a non-zero exit; 128 when a signal ended it). */
export async function run(
  argv: readonly string[],
  opts: {
    input?: string;
    timeoutMs?: number;
    /** run as this uid and gid (no supplementary groups: Node drops them with the uid), from "/" */
    user?: { readonly uid: number; readonly gid: number };
    /** working directory (default: the caller's, or "/" with `user`) */
    cwd?: string;
  } = {},
): Promise<ExecResult> {
  const r = await runProgram(argv, {
    env: { PATH: HOST_PATH, LC_ALL: "C" },
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.user ? { user: opts.user, cwd: "/" } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  return { code: r.code ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Run a command; reject with CommandError unless its exit code is in `ok` (default [0]). */
export async function runOk(argv: readonly string[], ok: readonly number[] = [0]): Promise<ExecResult> {
  const r = await run(argv);
  if (!ok.includes(r.code)) throw new CommandError(argv, r);
  return r;
}
