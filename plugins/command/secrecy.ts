// When the output of a command counts as secret. A command that was given a secret (in its script,
// environment, stdin, interpreter, dir or triggers, or as the previous run's secret output) may well
// print it, so what it produces (stdout, stderr, assets, archive) is stored as secret outputs, and
// none of it is logged or quoted in an error. Upstream 1.2.1 only keeps the secretness of echoed
// inputs, which leaves such output in plain text in the state (pulumi-command#401).

import { containsSecret, isSecret, secretValue, WireMap } from "./wire";

/**
 * Inputs that never reach the command: the SDK marks the whole `connection` secret whatever it holds,
 * and it only authenticates the SSH session. Counting it would make the output of every remote
 * command secret, which upstream reverted as a regression (pulumi-command#256).
 */
const NOT_SEEN_BY_COMMAND: ReadonlySet<string> = new Set(["connection"]);

/** Outputs the command produces, as opposed to the inputs that outputs echo. */
export const PRODUCED_OUTPUTS = ["stdout", "stderr", "assets", "archive"] as const;
const PRODUCED: ReadonlySet<string> = new Set(PRODUCED_OUTPUTS);

export interface PreviousOutput {
  stdout?: unknown;
  stderr?: unknown;
}

/**
 * True when a secret reaches the command: an input other than the connection holds one, or the
 * previous run's output was secret and is passed on in PULUMI_COMMAND_STDOUT/STDERR.
 */
export function commandSeesSecret(inputs: WireMap, previous?: PreviousOutput): boolean {
  for (const [name, value] of Object.entries(inputs)) {
    if (!NOT_SEEN_BY_COMMAND.has(name) && !PRODUCED.has(name) && containsSecret(value)) {
      return true;
    }
  }
  const passesPrevious = inputs["addPreviousOutputInEnv"] !== false;
  return passesPrevious && previous !== undefined && [previous.stdout, previous.stderr].some(containsSecret);
}

/** Returns `outs` with every produced output wrapped as a secret when `secret` (never unwraps). */
export function markProduced(outs: WireMap, secret: boolean): WireMap {
  if (!secret) {
    return outs;
  }
  const marked: WireMap = { ...outs };
  for (const name of PRODUCED_OUTPUTS) {
    const value = marked[name];
    if (value !== undefined && !isSecret(value)) {
      marked[name] = secretValue(value);
    }
  }
  return marked;
}
