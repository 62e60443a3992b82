// Error messages for failed commands. What they show of the command's output follows `logging`:
// a stream that must not be logged is not put into the error either (errors are displayed too).

import { OperationFailedError } from "../../common/errors";
import { OutputVisibility } from "./logging";

const TAIL_LINES = 20;
const TAIL_CHARS = 4000;

export function tail(text: string): string {
  let t = text.replace(/\s+$/, "");
  const lines = t.split("\n");
  if (lines.length > TAIL_LINES) {
    t = "…\n" + lines.slice(-TAIL_LINES).join("\n");
  }
  if (t.length > TAIL_CHARS) {
    t = "…" + t.slice(-TAIL_CHARS);
  }
  return t;
}

export interface Exit {
  code: number | null;
  signal: string | null;
}

export function describeExit(exit: Exit): string {
  if (exit.code !== null) {
    return `exit code ${exit.code}`;
  }
  return exit.signal ? `signal ${exit.signal}` : "no exit status (connection lost?)";
}

export class CommandFailedError extends OperationFailedError {
  constructor(
    message: string,
    readonly exit: Exit,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message, "command_failed");
  }
}

/**
 * Builds the error for a command that did not exit 0. `what` names the step, e.g.
 * "create command" or "delete command on root@10.0.0.5:22".
 */
export function commandFailed(
  what: string,
  exit: Exit,
  stdout: string,
  stderr: string,
  shown: OutputVisibility,
): CommandFailedError {
  const parts = [`${what} failed with ${describeExit(exit)}`];
  if (shown.hiddenBecause) {
    parts.push(`(its output is not shown because ${shown.hiddenBecause})`);
  } else {
    if (shown.stderr && stderr.trim() !== "") {
      parts.push("stderr:\n" + tail(stderr));
    }
    if (shown.stdout && stdout.trim() !== "" && (stderr.trim() === "" || !shown.stderr)) {
      parts.push("stdout:\n" + tail(stdout));
    }
  }
  return new CommandFailedError(parts.join("\n"), exit, stdout, stderr);
}
