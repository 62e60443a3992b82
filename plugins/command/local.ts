// Running a command on the machine where the engine runs (command:local:Command, command:local:run).

import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { collectFiles, CollectedFiles } from "./collect";
import { commandFailed } from "./errors";
import { LogSink, OutputVisibility, StreamCollector, trimTrailingNewline } from "./logging";

export interface LocalRunSpec {
  /** The step, for messages: "create", "update", "delete", "run". */
  step: string;
  command: string;
  interpreter: string[];
  dir?: string;
  /** Added to (and overriding) the provider's own environment. */
  environment: Record<string, string>;
  stdin?: string;
  /** Globs of files under `dir` to return as the `assets` and `archive` outputs (collect.ts). */
  assetPaths?: string[];
  archivePaths?: string[];
  /** What of the output may be logged and quoted in an error (outputVisibility). */
  shown: OutputVisibility;
  /** The command as an error message may quote it: its text, or "[secret]". */
  displayCommand: string;
  urn: string;
  sink: LogSink;
  signal?: AbortSignal;
}

/** How long to keep reading output after the command exited (background children may hold it open). */
export const OUTPUT_GRACE_MS = 2000;

export interface CommandOutput extends CollectedFiles {
  stdout: string;
  stderr: string;
}

function resolveDir(dir: string | undefined): string {
  const resolved = path.resolve(dir ?? ".");
  let st: fs.Stats;
  try {
    st = fs.statSync(resolved);
  } catch {
    throw new Error(`dir ${JSON.stringify(dir)} does not exist (resolved to ${resolved})`);
  }
  if (!st.isDirectory()) {
    throw new Error(`dir ${JSON.stringify(dir)} is not a directory (resolved to ${resolved})`);
  }
  return resolved;
}

/**
 * Runs `interpreter... command` (by default `/bin/sh -c command`) without any further shell,
 * streams output lines to the sink as `shown` allows, and resolves with the trimmed output.
 * Rejects with the exit status (and the output that `shown` allows) when it does not exit 0.
 */
export function runLocal(spec: LocalRunSpec): Promise<CommandOutput> {
  if (spec.interpreter.length === 0 || spec.interpreter[0] === "") {
    return Promise.reject(new Error("interpreter must name a program"));
  }
  let cwd: string;
  try {
    cwd = resolveDir(spec.dir);
  } catch (e) {
    return Promise.reject(e);
  }
  const [program, ...args] = spec.interpreter;
  const interleaved: Buffer[] = [];
  const out = new StreamCollector(spec.sink, spec.urn, spec.shown.stdout, interleaved);
  const err = new StreamCollector(spec.sink, spec.urn, spec.shown.stderr, interleaved);

  return new Promise<CommandOutput>((resolve, reject) => {
    // Own process group, so that cancelling kills the whole tree, not just the interpreter.
    const child = spawn(program, [...args, spec.command], {
      cwd,
      env: { ...process.env, ...spec.environment },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let failure: Error | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let finished = false;
    let grace: NodeJS.Timeout | undefined;
    let killer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) {
          process.kill(-child.pid, sig);
        }
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      const reason: unknown = spec.signal?.reason;
      failure = new Error(
        `${spec.step} command ${reason instanceof Error ? reason.message : "was cancelled"}`,
      );
      killGroup("SIGTERM");
      killer = setTimeout(() => killGroup("SIGKILL"), 5000);
    };
    if (spec.signal?.aborted) {
      onAbort();
    } else {
      spec.signal?.addEventListener("abort", onAbort, { once: true });
    }

    const finish = () => {
      if (finished) {
        return;
      }
      finished = true;
      clearTimeout(grace);
      clearTimeout(killer);
      spec.signal?.removeEventListener("abort", onAbort);
      const stdout = out.finish();
      const stderr = err.finish();
      if (failure) {
        reject(failure);
      } else if (exit?.code === 0) {
        try {
          const files = collectFiles(cwd, spec.assetPaths, spec.archivePaths);
          resolve({ stdout: trimTrailingNewline(stdout), stderr: trimTrailingNewline(stderr), ...files });
        } catch (e) {
          reject(new Error(`collecting assetPaths/archivePaths in ${cwd} failed: ${(e as Error).message}`));
        }
      } else {
        reject(
          commandFailed({
            exit: exit ?? { code: null, signal: null },
            runner: "local",
            command: spec.displayCommand,
            output: Buffer.concat(interleaved).toString("utf8"),
            shown: spec.shown,
          }),
        );
      }
    };

    child.on("error", (e: NodeJS.ErrnoException) => {
      failure ??= e.code === "ENOENT" ? new Error(`interpreter ${JSON.stringify(program)} was not found`) : e;
      if (child.pid === undefined) {
        finish(); // never started: no 'exit' or 'close' will follow
      }
    });
    child.stdout.on("data", (d: Buffer) => out.write(d));
    child.stderr.on("data", (d: Buffer) => err.write(d));
    // A command that exits without reading its stdin must not fail us with EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(spec.stdin ?? "");
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // A background process started by the command may keep stdout open forever; do not
      // wait for it longer than a moment after the command itself has exited.
      grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, OUTPUT_GRACE_MS);
    });
    child.on("close", finish);
  });
}
