// The one way the code runs a program and collects what it printed: spawn with an argument array (never a
// shell line), `input` written to its stdin and closed, stdout and stderr gathered as UTF-8 up to a cap, and a
// timeout that kills it. Each layer wraps it with its own environment and error kind: node/host/exec.ts (the
// node's fixed PATH), components/host/transport.ts (a local host's commands), the broker's nsupdate and the
// certificate's openssl.
import { spawn } from "child_process";

/** How a program ended, and what it printed. */
export interface ProgramResult {
  /** Its exit code; null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it (the timeout's `killSignal`, or another); null when it exited. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunProgramOptions {
  /** Written to its stdin, which is then closed. Without it, stdin stays an open pipe until it exits. */
  readonly input?: string;
  /** Its whole environment. @default the caller's */
  readonly env?: NodeJS.ProcessEnv;
  /** Killed with `killSignal` after this long. @default no limit */
  readonly timeoutMs?: number;
  /** @default "SIGTERM" */
  readonly killSignal?: NodeJS.Signals;
  /** Run as this uid and gid (Node drops the supplementary groups with the uid). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** Its working directory. @default the caller's */
  readonly cwd?: string;
  /** Bytes kept of stdout and of stderr each; a program printing more is killed and the run rejects. @default 16 MiB */
  readonly maxOutputBytes?: number;
}

/** The program could not be started (missing, not executable): `code` is the errno name (ENOENT, EACCES). */
export class SpawnError extends Error {
  constructor(
    readonly program: string,
    readonly code: string,
  ) {
    super(`cannot run ${program}: ${code}`);
  }
}

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;

/**
 * Runs `argv` and resolves with how it ended, whatever its exit code; rejects with SpawnError when it could
 * not start, and with an Error when its output passed the cap.
 */
export function runProgram(argv: readonly string[], opts: RunProgramOptions = {}): Promise<ProgramResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error("runProgram: empty argv"));
  const cap = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ["pipe", "pipe", "pipe"],
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
      killSignal: opts.killSignal ?? "SIGTERM",
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    const out = { stdout: "", stderr: "" };
    let overflow: string | undefined;
    const collect = (stream: "stdout" | "stderr") => (d: string) => {
      if (overflow !== undefined) return;
      out[stream] += d;
      if (Buffer.byteLength(out[stream]) > cap) {
        overflow = stream;
        child.kill("SIGKILL");
      }
    };
    child.stdout.setEncoding("utf8").on("data", collect("stdout"));
    child.stderr.setEncoding("utf8").on("data", collect("stderr"));
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(typeof err.code === "string" ? new SpawnError(program, err.code) : err),
    );
    child.once("close", (code, signal) => {
      if (overflow !== undefined)
        reject(new Error(`${program} printed more than ${cap} bytes on ${overflow}: killed`));
      else resolve({ code, signal, stdout: out.stdout, stderr: out.stderr });
    });
    // a program that exits before reading all of its input closes the pipe: its exit status says why
    child.stdin.on("error", () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
  });
}
