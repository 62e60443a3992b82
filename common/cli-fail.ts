// The one sink of every geartrain CLI for a thrown error (dokku's LogFailWithError): print it, return its exit
// code. Codes and kinds come from the error itself (common/errors.ts), so no CLI keeps its own table.

import { errorJson, reportOf } from "./errors";

/** Where failFor writes; each call is one text that the stream gets with a trailing newline. */
export interface FailIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processFailIo: FailIo = {
  stdout: (text) => void process.stdout.write(text + "\n"),
  stderr: (text) => void process.stderr.write(text + "\n"),
};

export interface FailOptions {
  /** what the stderr line starts with, e.g. "geartrain node" */
  readonly program: string;
  /** printed after a usage error's message */
  readonly usage?: string;
  /** false: no JSON error on stdout (a CLI whose stdout is human text); default true */
  readonly json?: boolean;
  readonly io?: FailIo;
}

/**
 * Prints `err` and returns the exit code it carries. A usage error goes to stderr with the usage text. Every
 * other error is `{ error: { kind, message, field?, ...details } }` on stdout (unless `json` is false) and
 * `<program>: <first line of the message>` on stderr. A value that is no GeartrainError is kind "error", exit 1.
 */
export function failFor(err: unknown, opts: FailOptions): number {
  const io = opts.io ?? processFailIo;
  const report = reportOf(err);
  if (report.kind === "usage") {
    io.stderr(`${opts.program}: ${report.message}${opts.usage !== undefined ? `\n\n${opts.usage}` : ""}`);
    return report.exitCode;
  }
  if (opts.json !== false) io.stdout(JSON.stringify(errorJson(report), null, 2));
  io.stderr(`${opts.program}: ${report.message.split("\n")[0]}`);
  return report.exitCode;
}
