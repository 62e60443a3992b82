// The only way this layer runs host commands: execFile with an argument array, never a shell.

import { execFile } from "child_process";
import { OperationFailedError } from "../../common/errors";

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

/** Run a command; resolve with its exit code (never rejects for a non-zero exit). */
export function run(
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
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        env: { PATH: HOST_PATH, LC_ALL: "C" },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: "utf8",
        ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid, cwd: "/" } : {}),
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === "string") {
          // spawn failure (ENOENT, EACCES): the tool is missing
          reject(new Error(`cannot run ${cmd}: ${(err as NodeJS.ErrnoException).code}`));
          return;
        }
        const code = err ? (typeof err.code === "number" ? err.code : 128) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Run a command; reject with CommandError unless its exit code is in `ok` (default [0]). */
export async function runOk(argv: readonly string[], ok: readonly number[] = [0]): Promise<ExecResult> {
  const r = await run(argv);
  if (!ok.includes(r.code)) throw new CommandError(argv, r);
  return r;
}
