// Environment variables for commands: name validation, POSIX single-quote escaping, and the
// `export` preamble used on remote hosts (sshd normally refuses SSH "env" requests unless
// AcceptEnv allows them, so values travel inside the command string, quoted so that the remote
// shell never interprets them).

export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const PREVIOUS_STDOUT_VAR = "PULUMI_COMMAND_STDOUT";
export const PREVIOUS_STDERR_VAR = "PULUMI_COMMAND_STDERR";

/** Reason an environment variable name is unusable on a remote host, or undefined when fine. */
export function remoteEnvNameProblem(name: string): string | undefined {
  if (!ENV_NAME_PATTERN.test(name)) {
    return `environment variable name ${JSON.stringify(name)} is invalid: it must match ${ENV_NAME_PATTERN.source}`;
  }
  return undefined;
}

/** Reason an environment variable name is unusable for a local process, or undefined when fine. */
export function localEnvNameProblem(name: string): string | undefined {
  if (name === "" || name.includes("=") || name.includes("\0")) {
    return `environment variable name ${JSON.stringify(name)} is invalid: it must be non-empty and contain no "=" or NUL`;
  }
  return undefined;
}

/** Reason a value cannot be placed in an environment, or undefined when fine. Never echoes the value. */
export function envValueProblem(name: string, value: string): string | undefined {
  if (value.includes("\0")) {
    return `environment variable ${name} contains a NUL character, which an environment cannot hold`;
  }
  return undefined;
}

/**
 * Quotes a string for a POSIX shell: wrapped in single quotes, with each embedded single quote
 * written as '\'' (close quote, escaped quote, reopen). Nothing inside single quotes is expanded.
 */
export function shellQuote(value: string): string {
  return "'" + value.replace(/'/g, "'\\''") + "'";
}

/**
 * Builds `export NAME='value'` lines (sorted by name, so the command string is deterministic) to
 * put in front of a remote command. Throws on an invalid name or value.
 */
export function exportPreamble(env: Record<string, string>): string {
  const names = Object.keys(env).sort();
  const lines: string[] = [];
  for (const name of names) {
    const problem = remoteEnvNameProblem(name) ?? envValueProblem(name, env[name]);
    if (problem) {
      throw new Error(problem);
    }
    lines.push(`export ${name}=${shellQuote(env[name])}`);
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** The remote command string: the export preamble followed by the user's script, unchanged. */
export function remoteCommandString(command: string, env: Record<string, string>): string {
  return exportPreamble(env) + command;
}

/** PULUMI_COMMAND_STDOUT/STDERR from a previous run, when `addPreviousOutputInEnv` allows it. */
export function previousOutputEnv(
  enabled: boolean,
  previous: { stdout?: unknown; stderr?: unknown } | undefined,
): Record<string, string> {
  if (!enabled || !previous) {
    return {};
  }
  const out: Record<string, string> = {};
  if (typeof previous.stdout === "string") {
    out[PREVIOUS_STDOUT_VAR] = previous.stdout;
  }
  if (typeof previous.stderr === "string") {
    out[PREVIOUS_STDERR_VAR] = previous.stderr;
  }
  return out;
}
