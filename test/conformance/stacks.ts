// Stacks of the conformance project (./project): one per program, run through the real engine in the
// environment users get from scripts/env.sh (the toolchain on PATH, our language host and provider).
import * as fs from "fs";
import * as path from "path";
import { CliResult, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

export const CONFORMANCE_PROJECT = path.join(__dirname, "project");

/**
 * A new stack running `program`, with its settings (`secrets` encrypted) set in one CLI call. With
 * `backend`, the stack lives in that sandbox's file backend (so a StackReference can reach it).
 */
export function programStack(
  program: string,
  settings: (dir: string) => {
    plain?: Record<string, string>;
    secrets?: Record<string, string>;
  } = () => ({}),
  backend?: PulumiSandbox,
): PulumiSandbox {
  requireToolchain();
  const stack = backend
    ? backend.sibling(program)
    : new PulumiSandbox(program, undefined, CONFORMANCE_PROJECT);
  stack.init();
  const { plain = {}, secrets = {} } = settings(stack.dir);
  const args = ["config", "set-all", "--plaintext", `program=${program}`];
  for (const [key, value] of Object.entries(plain)) args.push("--plaintext", `${key}=${value}`);
  for (const [key, value] of Object.entries(secrets)) args.push("--secret", `${key}=${value}`);
  stack.ok(args);
  return stack;
}

/** The stack's state as `pulumi stack export` prints it (secrets encrypted). */
export interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly parent?: string;
  readonly outputs?: Record<string, unknown>;
}

export function exportedResources(stack: PulumiSandbox): StateResource[] {
  const state = JSON.parse(stack.ok(["stack", "export"]).stdout);
  return state.deployment.resources ?? [];
}

export function resourceNamed(stack: PulumiSandbox, name: string): StateResource {
  const found = exportedResources(stack).find((r) => r.urn.endsWith(`::${name}`));
  if (!found) throw new Error(`no resource named ${name} in the state of ${stack.stack}`);
  return found;
}

export function outputs(stack: PulumiSandbox, showSecrets = false): Record<string, unknown> {
  const args = ["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : [])];
  return JSON.parse(stack.ok(args).stdout);
}

/** Engine events of one command, from its `--event-log` file (a flag of PULUMI_DEBUG_COMMANDS). */
export interface EngineEvent {
  readonly diagnosticEvent?: { urn?: string; message: string; severity: string; ephemeral?: boolean };
}

export function runLogged(
  stack: PulumiSandbox,
  args: string[],
): { result: CliResult; events: EngineEvent[] } {
  const log = path.join(stack.dir, `events-${Date.now()}.jsonl`);
  const result = stack.run([...args, "--event-log", log], { env: { PULUMI_DEBUG_COMMANDS: "true" } });
  if (!fs.existsSync(log)) {
    throw new Error(
      `pulumi ${args.join(" ")} wrote no event log (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  const events = fs
    .readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as EngineEvent);
  return { result, events };
}

/** Destroys every stack given (dependents first) and removes their sandboxes. */
export function destroyAll(...stacks: (PulumiSandbox | undefined)[]): void {
  for (const stack of stacks) stack?.run(["destroy", "--yes", "--skip-preview"]);
  for (const stack of stacks) stack?.cleanup();
}
