// `geartrain review --stack S`: runs the project's `pulumi preview --json` through this checkout's toolchain
// (scripts/env.sh: PATH, PULUMI_HOME, backend, passphrase) with the policy pack in policies/, and prints a
// Markdown summary fit for a pull-request comment (review-model.ts). The exit code says clean, changes,
// policy violation or error (docs/reviewing-changes.md). Every argument travels as an argv element.

import { spawn } from "child_process";
import { existsSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import type { CommandGroup } from "../../../common/cli";
import { failFor } from "../../../common/cli-fail";
import { OperationFailedError, UsageError, ValidationError } from "../../../common/errors";
import { processContext, type CliContext } from "../base";
import { parsePreview, renderMarkdown, REVIEW_EXIT, summarize, type PreviewResult } from "../review-model";

const USAGE = `geartrain review: a pull-request summary of what \`pulumi preview\` would change, with the policy pack

Usage:
  geartrain review --stack S [--cwd DIR] [--config-file FILE] [--policy-pack DIR]... [--no-policy]
                   [--policy-pack-config FILE]... [--refresh] [--output FILE] [--preview-json FILE]

  --stack S               the stack to preview (required)
  --cwd DIR               the Pulumi project (default: the current directory)
  --config-file FILE      the stack's config file, passed to pulumi
  --policy-pack DIR       a policy pack to run (repeatable; default: this checkout's policies/)
  --no-policy             run no policy pack
  --policy-pack-config F  a policy pack's config, as pulumi takes it (repeatable, in --policy-pack order)
  --refresh               refresh the state from the hosts first (shows drift)
  --output FILE           also write the Markdown to FILE
  --preview-json FILE     summarize a saved \`pulumi preview --json\` output instead of running one

The Markdown goes to stdout; pulumi's own messages to stderr.
Exit codes: 0 no changes, 7 changes, 8 a mandatory policy failed, 1 the preview failed (the error is in
the summary), 2 usage.`;

const OPTIONS = {
  stack: { type: "string" },
  cwd: { type: "string" },
  "config-file": { type: "string" },
  "policy-pack": { type: "string", multiple: true },
  "no-policy": { type: "boolean" },
  "policy-pack-config": { type: "string", multiple: true },
  refresh: { type: "boolean" },
  output: { type: "string" },
  "preview-json": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The checkout this module is part of (source or dist/ alike): the nearest package.json named geartrain. */
function checkoutRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "geartrain")
      return dir;
    if (path.dirname(dir) === dir) throw new OperationFailedError(`no geartrain checkout above ${from}`);
  }
}

/** The checkout's policy pack, with its dependencies installed (scripts/setup.sh does that). */
export function defaultPolicyPack(root: string = checkoutRoot()): string {
  const pack = path.join(root, "policies");
  if (!existsSync(path.join(pack, "node_modules", "@pulumi", "policy", "package.json")))
    throw new OperationFailedError(
      `the policy pack's dependencies are not installed in ${pack}: run \`npm run setup\` ` +
        `(or \`npm ci --ignore-scripts\` in ${pack})`,
    );
  return pack;
}

/** The argv of `pulumi preview` for a review (after `pulumi`). */
export function previewArgs(opts: {
  stack: string;
  configFile?: string;
  policyPacks: readonly string[];
  policyPackConfigs: readonly string[];
  refresh: boolean;
}): string[] {
  return [
    "preview",
    "--json",
    "--stack",
    opts.stack,
    "--non-interactive",
    ...(opts.configFile !== undefined ? ["--config-file", opts.configFile] : []),
    ...(opts.refresh ? ["--refresh"] : []),
    ...opts.policyPacks.flatMap((p) => ["--policy-pack", p]),
    ...opts.policyPackConfigs.flatMap((c) => ["--policy-pack-config", c]),
  ];
}

/** Runs `pulumi <args>` in `cwd` through the checkout's scripts/env.sh; stdout collected, stderr passed on. */
function runPulumi(
  root: string,
  cwd: string,
  args: readonly string[],
  ctx: CliContext,
): Promise<{ code: number; stdout: string }> {
  const envSh = path.join(root, "scripts", "env.sh");
  if (!existsSync(path.join(root, ".geartrain", "bin", "pulumi")))
    throw new OperationFailedError(`the Pulumi toolchain is not set up in ${root}: run \`npm run setup\``);
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", 'source "$GEARTRAIN_ENV_SH" && exec pulumi "$@"', "pulumi", ...args], {
      cwd,
      env: {
        ...process.env,
        GEARTRAIN_ENV_SH: envSh,
        // The streaming form of --json: it carries the policy violations, the single object does not.
        PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let errTail = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      errTail = (errTail + d).slice(-4000);
      const lines = d.split("\n");
      for (const line of lines) if (line.trim() !== "") ctx.err(line);
    });
    child.once("error", (err) => reject(new OperationFailedError(`could not run pulumi: ${err.message}`)));
    child.once("close", (code) => {
      const stdout = Buffer.concat(out).toString("utf8");
      if (stdout.trim() === "")
        reject(
          new OperationFailedError(`pulumi preview exited ${code} without any JSON:\n${errTail.trim()}`),
        );
      else resolve({ code: code ?? 1, stdout });
    });
  });
}

export async function review(argv: readonly string[], ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    ctx.out(USAGE);
    return REVIEW_EXIT.CLEAN;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const stack = values.stack;
  if (stack === undefined) throw new UsageError("missing --stack S");
  if (!/^[A-Za-z0-9_.\-/]+$/.test(stack))
    throw new ValidationError(
      "stack",
      `expected a stack name (letters, digits, _ . - /), got ${JSON.stringify(stack)}`,
    );
  if (values["no-policy"] && values["policy-pack"] !== undefined)
    throw new UsageError("--no-policy and --policy-pack exclude each other");

  let preview: PreviewResult;
  if (values["preview-json"] !== undefined) {
    preview = parsePreview(readFileSync(values["preview-json"], "utf8"));
  } else {
    const root = checkoutRoot();
    const cwd = path.resolve(values.cwd ?? process.cwd());
    if (!existsSync(path.join(cwd, "Pulumi.yaml")))
      throw new ValidationError("cwd", `${cwd} has no Pulumi.yaml: pass the project's folder with --cwd`);
    const policyPacks = values["no-policy"]
      ? []
      : (values["policy-pack"] ?? [defaultPolicyPack(root)]).map((p) => path.resolve(p));
    const args = previewArgs({
      stack,
      ...(values["config-file"] !== undefined ? { configFile: path.resolve(values["config-file"]) } : {}),
      policyPacks,
      policyPackConfigs: (values["policy-pack-config"] ?? []).map((p) => path.resolve(p)),
      refresh: values.refresh === true,
    });
    const run = await runPulumi(root, cwd, args, ctx);
    try {
      preview = parsePreview(run.stdout);
    } catch (err) {
      throw new OperationFailedError(`pulumi preview exited ${run.code} and ${(err as Error).message}`);
    }
    // A preview that exited non-zero without saying why in its events is an error still.
    if (run.code !== 0 && !preview.failed) preview = { ...preview, failed: true };
  }
  const summary = summarize(stack, preview);
  const markdown = renderMarkdown(summary);
  ctx.out(markdown);
  if (values.output !== undefined) writeFileSync(values.output, markdown);
  return summary.exitCode;
}

export interface ReviewGroup extends CommandGroup {
  /** runs with a given context (tests); run(argv) uses the process's */
  runWith(argv: readonly string[], ctx: CliContext): Promise<number>;
}

async function runWith(argv: readonly string[], ctx: CliContext): Promise<number> {
  try {
    return await review(argv, ctx);
  } catch (err) {
    return failFor(err, {
      program: "geartrain review",
      usage: USAGE,
      json: false,
      io: { stdout: ctx.out, stderr: ctx.err },
    });
  }
}

export const group: ReviewGroup = {
  summary: "a pull-request summary of `pulumi preview` (changes per component, risks, policy)",
  runWith,
  run: (argv) => runWith(argv, processContext()),
};
