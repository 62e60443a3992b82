// Error messages for failed commands, in upstream's form, which scripts match on:
//   exit status 3: running "make install":
//   <stdout and stderr, as they arrived>
// (over SSH: "Process exited with status 3: running …"). What they quote of the output follows
// `shown` (logging.ts): a stream that must not be logged is not put into the error either, and a
// secret command is quoted as [secret].

import { OperationFailedError } from "../../common/errors";
import { OutputVisibility } from "./logging";

/** At most this much of the output goes into a message (its end, where the error usually is). */
const TAIL_CHARS = 64 * 1024;

export function tail(text: string): string {
  return text.length > TAIL_CHARS ? "…" + text.slice(-TAIL_CHARS) : text;
}

export interface Exit {
  code: number | null;
  /** "SIGKILL" and the like. */
  signal: string | null;
}

/** Where the command ran: locally (Go's os/exec wording) or over SSH (Go's x/crypto/ssh wording). */
export type Runner = "local" | "remote";

/** Names Go gives signals in "signal: killed". */
const GO_SIGNAL_NAMES: Readonly<Record<string, string>> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGABRT: "aborted",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGSEGV: "segmentation fault",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
  SIGUSR1: "user defined signal 1",
  SIGUSR2: "user defined signal 2",
};

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

export function describeExit(exit: Exit, runner: Runner): string {
  if (runner === "local") {
    if (exit.code !== null) return `exit status ${exit.code}`;
    return exit.signal ? `signal: ${GO_SIGNAL_NAMES[exit.signal] ?? exit.signal}` : "no exit status";
  }
  if (exit.code !== null) return `Process exited with status ${exit.code}`;
  if (!exit.signal) return "wait: remote command exited without exit status or exit signal";
  const status = 128 + (SIGNAL_NUMBERS[exit.signal] ?? 0);
  return `Process exited with status ${status} from signal ${exit.signal.replace(/^SIG/, "")}`;
}

export class CommandFailedError extends OperationFailedError {
  constructor(
    message: string,
    readonly exit: Exit,
  ) {
    super(message, "command_failed");
  }
}

export interface FailedRun {
  readonly exit: Exit;
  readonly runner: Runner;
  /** The command as it may be shown: its text, or "[secret]". */
  readonly command: string;
  /** The shown streams' output, interleaved as it arrived. */
  readonly output: string;
  readonly shown: OutputVisibility;
}

/** The error for a command that did not exit 0. */
export function commandFailed(run: FailedRun): CommandFailedError {
  const output = run.shown.hiddenBecause
    ? `(the output is not shown because ${run.shown.hiddenBecause})`
    : tail(run.output);
  return new CommandFailedError(
    `${describeExit(run.exit, run.runner)}: running ${JSON.stringify(run.command)}:\n${output}`,
    run.exit,
  );
}
