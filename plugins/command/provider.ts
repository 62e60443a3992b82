// The resource provider: command:local:Command, command:remote:Command, command:remote:CopyToRemote
// and the command:local:run function, behind @pulumi/pulumi/provider's gRPC server.
//
// What the server gives us: Check/Diff/Create/Read/Update/Delete/Invoke with properties as plain
// JavaScript (secrets, assets and unknowns in their wire encoding, see wire.ts). Olds in Diff and
// Update are the previous *outputs*, which echo every input plus stdout/stderr. The server does not
// advertise preview support, so the engine never calls Create/Update during a preview; we also
// refuse to run anything whose inputs are not all known.

import { randomBytes } from "crypto";
import type * as provider from "@pulumi/pulumi/provider";
import { checkResource, checkRunArgs, CheckFailure } from "./check";
import { copyToRemote, resolveSource } from "./copy";
import { diffResource } from "./diff";
import { previousOutputEnv } from "./env";
import { CommandOutput, runLocal } from "./local";
import { operationContext } from "./context";
import { LogSink, outputVisibility, stderrSink } from "./logging";
import { DialOptions, execRemote, resolveConnection, withSsh } from "./remote";
import { commandSeesSecret, markProduced, PreviousOutput } from "./secrecy";
import {
  DEFAULT_INTERPRETER,
  DEFAULT_LOGGING,
  Logging,
  PROVIDER_VERSION,
  ResourceToken,
  TOKENS,
  isResourceToken,
  packageSchema,
} from "./schema";
import {
  containsSecret,
  containsUnknown,
  dropUndefined,
  plain,
  plainMap,
  unknownValue,
  WireMap,
} from "./wire";

export interface CommandProviderOptions {
  /** Where command output and diagnostics go; the engine's log in main.ts. Default: stderr. */
  sink?: LogSink;
  /** Delay between SSH dial attempts (tests shorten it). */
  dialDelayMs?: (attempt: number) => number;
}

/** Splits a URN into its resource type token and name. */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4) {
    throw new Error(`malformed URN ${JSON.stringify(urn)}`);
  }
  const type = parts[2].split("$").pop() as string;
  return { type, name: parts.slice(3).join("::") };
}

function resourceToken(urn: string): ResourceToken {
  const { type } = parseUrn(urn);
  if (!isResourceToken(type)) {
    throw new Error(
      `resource type ${type} is not implemented by Geartrain's command provider ` +
        `(supported: ${TOKENS.localCommand}, ${TOKENS.remoteCommand}, ${TOKENS.copyToRemote})`,
    );
  }
  return type;
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "string") {
        out[k] = x;
      }
    }
  }
  return out;
}

/** A list input as given, even empty (assetPaths: [] still asks for an empty `assets` map). */
function globList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")
    ? (v as string[])
    : undefined;
}

/** A command resource's outputs: every input echoed, plus what the step produced. */
function commandOutputs(inputs: WireMap, out: StepOutput): WireMap {
  const { secret, ...produced } = out;
  return markProduced(dropUndefined({ ...inputs, ...produced }), secret);
}

function failuresError(what: string, failures: CheckFailure[]): Error {
  return new Error(`invalid inputs for ${what}:\n` + failures.map((f) => `  - ${f.reason}`).join("\n"));
}

/** What a step produced, and whether a secret reached the command (its output is then secret). */
interface StepOutput extends CommandOutput {
  secret: boolean;
}

export class CommandProvider implements provider.Provider {
  readonly version = PROVIDER_VERSION;
  private readonly sink: LogSink;
  private abort = new AbortController();

  constructor(private readonly options: CommandProviderOptions = {}) {
    this.sink = options.sink ?? stderrSink;
  }

  async getSchema(): Promise<string> {
    return JSON.stringify(packageSchema());
  }

  async check(urn: string, _olds: WireMap, news: WireMap): Promise<provider.CheckResult> {
    const token = resourceToken(urn);
    const inputs = news ?? {};
    return { inputs, failures: checkResource(token, inputs) };
  }

  async diff(_id: string, urn: string, olds: WireMap, news: WireMap): Promise<provider.DiffResult> {
    const d = diffResource(resourceToken(urn), olds ?? {}, news ?? {});
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace };
  }

  async create(urn: string, inputs: WireMap): Promise<provider.CreateResult> {
    const token = resourceToken(urn);
    const id = `${parseUrn(urn).name}-${randomBytes(4).toString("hex")}`;
    if (containsUnknown(inputs)) {
      return { id, outs: this.previewOutputs(token, inputs) };
    }
    this.assertValid(token, urn, inputs);
    return this.withOperation("create", async (signal) => {
      if (token === TOKENS.copyToRemote) {
        await this.copy(urn, inputs, signal);
        return { id, outs: dropUndefined({ ...inputs }) };
      }
      const command = nonEmpty(plainMap(inputs)["create"]);
      const out = command
        ? await this.runStep(token, "create", urn, inputs, "create", undefined, signal)
        : { stdout: "", stderr: "", secret: false };
      return { id, outs: commandOutputs(inputs, out) };
    });
  }

  async read(id: string, _urn: string, props?: WireMap): Promise<provider.ReadResult> {
    // Commands have no live state to read back (as upstream): refresh keeps what is recorded, but
    // output recorded in plain text before a secret reached the command becomes secret.
    const state = props ?? {};
    return { id, props: markProduced(state, commandSeesSecret(state, state)) };
  }

  async update(_id: string, urn: string, olds: WireMap, news: WireMap): Promise<provider.UpdateResult> {
    const token = resourceToken(urn);
    if (containsUnknown(news)) {
      return { outs: this.previewOutputs(token, news) };
    }
    this.assertValid(token, urn, news);
    return this.withOperation("update", async (signal) => {
      if (token === TOKENS.copyToRemote) {
        await this.copy(urn, news, signal);
        return { outs: dropUndefined({ ...news }) };
      }
      const p = plainMap(news);
      const update = nonEmpty(p["update"]);
      const command = update ?? nonEmpty(p["create"]);
      if (!command) {
        const kept = {
          stdout: olds?.["stdout"] ?? "",
          stderr: olds?.["stderr"] ?? "",
          assets: olds?.["assets"],
          archive: olds?.["archive"],
        };
        return { outs: markProduced(dropUndefined({ ...news, ...kept }), commandSeesSecret(news)) };
      }
      const step = update ? "update" : "create (run again because there is no update command)";
      const out = await this.runStep(token, step, urn, news, update ? "update" : "create", olds, signal);
      return { outs: commandOutputs(news, out) };
    });
  }

  async delete(_id: string, urn: string, props: WireMap): Promise<void> {
    const token = resourceToken(urn);
    if (token === TOKENS.copyToRemote) {
      return; // copied files are left in place, as upstream does
    }
    const command = nonEmpty(plainMap(props)["delete"]);
    if (!command) {
      return;
    }
    await this.withOperation("delete", (signal) =>
      this.runStep(token, "delete", urn, props, "delete", props, signal),
    );
  }

  async invoke(token: string, inputs: WireMap): Promise<provider.InvokeResult> {
    if (token !== TOKENS.localRun) {
      throw new Error(
        `function ${token} is not implemented by Geartrain's command provider (supported: ${TOKENS.localRun})`,
      );
    }
    const failures = checkRunArgs(inputs ?? {});
    if (failures.length > 0) {
      return { failures };
    }
    const p = plainMap(inputs);
    const out = await runLocal({
      step: "run",
      command: p["command"] as string,
      interpreter: stringList(p["interpreter"]) ?? [...DEFAULT_INTERPRETER],
      dir: nonEmpty(p["dir"]),
      assetPaths: globList(p["assetPaths"]),
      archivePaths: globList(p["archivePaths"]),
      displayCommand: p["command"] as string,
      environment: stringMap(p["environment"]),
      stdin: typeof p["stdin"] === "string" ? p["stdin"] : undefined,
      shown: outputVisibility(
        (p["logging"] as Logging | undefined) ?? DEFAULT_LOGGING,
        containsSecret(inputs),
      ),
      urn: "",
      sink: this.sink,
      signal: this.abort.signal,
    });
    return { outputs: dropUndefined({ ...inputs, ...out }) };
  }

  async cancel(): Promise<void> {
    // Stops running local processes and closes SSH connections; later calls work again.
    this.abort.abort(new Error("was cancelled"));
    this.abort = new AbortController();
  }

  // --- helpers -------------------------------------------------------------------------------

  /**
   * Runs one Create/Update/Delete with a signal that fires on cancel() or when the engine's
   * timeout for the request (customTimeouts, see context.ts) runs out.
   */
  private async withOperation<T>(step: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctl = new AbortController();
    const cancel = this.abort.signal;
    const onCancel = () => ctl.abort(cancel.reason);
    if (cancel.aborted) {
      onCancel();
    } else {
      cancel.addEventListener("abort", onCancel, { once: true });
    }
    const seconds = operationContext.getStore()?.timeoutSeconds;
    const timer =
      seconds !== undefined && seconds > 0
        ? setTimeout(
            () => ctl.abort(new Error(`timed out after ${seconds}s (customTimeouts.${step})`)),
            seconds * 1000,
          )
        : undefined;
    try {
      return await fn(ctl.signal);
    } finally {
      clearTimeout(timer);
      cancel.removeEventListener("abort", onCancel);
    }
  }

  private assertValid(token: ResourceToken, urn: string, inputs: WireMap): void {
    const failures = checkResource(token, inputs);
    if (failures.length > 0) {
      throw failuresError(`${token} ${parseUrn(urn).name}`, failures);
    }
  }

  private previewOutputs(token: ResourceToken, inputs: WireMap): WireMap {
    if (token === TOKENS.copyToRemote) {
      return dropUndefined({ ...inputs });
    }
    const collects = (name: string) => (inputs[name] !== undefined ? unknownValue : undefined);
    return dropUndefined({
      ...inputs,
      stdout: unknownValue,
      stderr: unknownValue,
      assets: collects("assetPaths"),
      archive: collects("archivePaths"),
    });
  }

  private dialOptions(urn: string, signal: AbortSignal): DialOptions {
    return { signal, sink: this.sink, urn, delayMs: this.options.dialDelayMs };
  }

  private async runStep(
    token: ResourceToken,
    step: string,
    urn: string,
    inputs: WireMap,
    commandInput: "create" | "update" | "delete",
    previous: PreviousOutput | undefined,
    signal: AbortSignal,
  ): Promise<StepOutput> {
    const p = plainMap(inputs);
    const command = p[commandInput] as string;
    const displayCommand = containsSecret(inputs[commandInput]) ? "[secret]" : command;
    const secret = commandSeesSecret(inputs, previous);
    const shown = outputVisibility((p["logging"] as Logging | undefined) ?? DEFAULT_LOGGING, secret);
    const prev = previous ? { stdout: plain(previous.stdout), stderr: plain(previous.stderr) } : undefined;
    const environment = {
      ...stringMap(p["environment"]),
      ...previousOutputEnv(p["addPreviousOutputInEnv"] !== false, prev),
    };
    const stdin = typeof p["stdin"] === "string" ? p["stdin"] : undefined;
    if (token === TOKENS.localCommand) {
      const out = await runLocal({
        step,
        command,
        displayCommand,
        interpreter: stringList(p["interpreter"]) ?? [...DEFAULT_INTERPRETER],
        dir: nonEmpty(p["dir"]),
        assetPaths: globList(p["assetPaths"]),
        archivePaths: globList(p["archivePaths"]),
        environment,
        stdin,
        shown,
        urn,
        sink: this.sink,
        signal,
      });
      return { ...out, secret };
    }
    const spec = resolveConnection(p["connection"]);
    const out = await withSsh(spec, this.dialOptions(urn, signal), `${step} command`, (client, target) =>
      execRemote(client, target, {
        step,
        command,
        displayCommand,
        environment,
        stdin,
        shown,
        urn,
        sink: this.sink,
      }),
    );
    return { ...out, secret };
  }

  private async copy(urn: string, inputs: WireMap, signal: AbortSignal): Promise<void> {
    const p = plainMap(inputs);
    const spec = resolveConnection(p["connection"]);
    const source = resolveSource(p["source"], containsSecret(inputs["source"]));
    const remotePath = p["remotePath"] as string;
    await withSsh(spec, this.dialOptions(urn, signal), "copy", async (client, target) => {
      try {
        const dest = await copyToRemote(client, source, remotePath);
        this.sink.log(
          "debug",
          urn,
          `copied ${source.kind === "text" ? "text" : source.path} to ${target}:${dest}`,
        );
      } catch (e) {
        if (signal.aborted) {
          throw e;
        }
        throw new Error(`copy to ${target} failed: ${(e as Error).message}`);
      }
    });
  }
}
