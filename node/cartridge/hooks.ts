// Running cartridge code: every hook, template pass and helper runs as the gear user through runInGear
// (gear cgroup, uid/gid, umask 077), with the gear env plus the cartridges' env/ (see hookEnv).

import * as path from "path";
import { OperationFailedError } from "../../common/errors";
import type { NodeContext } from "../context";
import { gearProcessEnv, PERL, runInGear, type RunResult } from "../gear/run-in-gear";
import type { GearRef } from "../gear/ref";
import { ENV_NAME_PATTERN } from "../../common/env-names";
import { readEnvDirSafe } from "../host/gear-fs";
import { hookEnv, type CartridgeEnvSource } from "./model";
import type { CartridgeRecord } from "./records";

export const DEFAULT_HOOK_TIMEOUT_MS = 300_000;
const OUTPUT_TAIL = 4000;

function tail(s: string): string {
  const t = s.trim();
  return t.length > OUTPUT_TAIL ? `…${t.slice(-OUTPUT_TAIL)}` : t;
}

/** A hook that exited non-zero (or was killed); the message carries its stderr (else stdout). */
export class HookError extends OperationFailedError {
  constructor(
    readonly cartridge: string,
    readonly hook: string,
    readonly result: RunResult,
  ) {
    const how =
      result.code !== null ? `exit ${result.code}` : `killed by ${result.signal ?? "signal"} (timeout?)`;
    const out = tail(result.stderr) || tail(result.stdout);
    super(`cartridge ${cartridge}: ${hook} failed (${how})${out ? `: ${out}` : ""}`, "hook_failed");
  }

  /** `exitCode` in the JSON is the hook's (null when it was killed); the CLI's is 1. */
  override details(): Record<string, unknown> {
    return { cartridge: this.cartridge, hook: this.hook, exitCode: this.result.code };
  }
}

/** The per-call env a hook of `self` gets (cartridge env/ dirs layered under the node's variables). */
export async function gearHookEnv(
  ctx: NodeContext,
  g: GearRef,
  records: readonly Pick<CartridgeRecord, "dir" | "shortName">[],
  self: string | null,
): Promise<Record<string, string>> {
  const dotEnv = await readEnvDirSafe(path.join(g.home, ".env"), ENV_NAME_PATTERN);
  const userVars = await readEnvDirSafe(path.join(g.home, ".env/user_vars"), ENV_NAME_PATTERN);
  // runInGear reads ~/.env raw; keep the same values here (readEnvDirSafe drops one trailing newline, and
  // node-written files have none)
  const cartridges: CartridgeEnvSource[] = [];
  for (const r of records) {
    cartridges.push({
      dir: r.dir,
      shortName: r.shortName,
      vars: await readEnvDirSafe(path.join(g.home, r.dir, "env"), ENV_NAME_PATTERN),
    });
  }
  return hookEnv({ prefix: ctx.config.envPrefix, dotEnv, userVars, cartridges, self });
}

export interface HookRun {
  readonly argv: readonly string[];
  /** label in errors, e.g. "bin/setup" */
  readonly label: string;
  readonly timeoutMs?: number;
  readonly input?: string;
  /** working directory inside the home (default: the cartridge directory) */
  readonly cwd?: string;
}

/** Run one hook of cartridge `self` as the gear; resolves with the result whatever the exit code. */
export async function runHook(
  ctx: NodeContext,
  g: GearRef,
  records: readonly Pick<CartridgeRecord, "dir" | "shortName">[],
  self: string,
  run: HookRun,
): Promise<RunResult> {
  const env = await gearHookEnv(ctx, g, records, self);
  return runInGear(ctx, g.uuid, run.argv, {
    cwd: run.cwd ?? path.join(g.home, self),
    env,
    input: run.input,
    timeoutMs: run.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
  });
}

/** runHook, and throw HookError unless the hook exits 0. */
export async function runHookOk(...args: Parameters<typeof runHook>): Promise<RunResult> {
  const r = await runHook(...args);
  const [, , , self, run] = args;
  if (r.code !== 0) throw new HookError(self, run.label, r);
  return r;
}

/**
 * The template renderer, run as the gear with `node -e` (constant program text; the handlebars module path
 * and the template paths, relative to the cartridge directory, arrive as argv). The context is the
 * process's own env: exactly the gear env the hooks see. Output = the name without .hbs, written via a
 * temp file and rename, mode from the template (umask 077 applies); the .hbs is removed, as OpenShift
 * removes its .erb files. Templates are not HTML: no escaping.
 */
const RENDER = String.raw`
"use strict";
const fs = require("fs");
const [hbPath, ...files] = process.argv.slice(1);
const Handlebars = require(hbPath);
const context = Object.assign(Object.create(null), process.env);
let failed = 0;
for (const f of files) {
  try {
    if (!f.endsWith(".hbs") || f.startsWith("/") || f.split("/").includes("..")) throw new Error("bad template path");
    const st = fs.lstatSync(f);
    if (!st.isFile()) throw new Error("not a regular file");
    const out = Handlebars.compile(fs.readFileSync(f, "utf8"), { noEscape: true })(context);
    const dest = f.slice(0, -4);
    const tmp = dest + ".gt-tmp";
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, out, { mode: st.mode & 0o777, flag: "wx" });
    fs.renameSync(tmp, dest);
    fs.unlinkSync(f);
  } catch (e) {
    process.stderr.write(f + ": " + e.message + "\n");
    failed++;
  }
}
process.exit(failed ? 1 : 0);
`;

/**
 * The writer of templates the node rendered itself (simple ones, see renderHere), run as the gear with perl
 * (constant program; each template path and its rendered text arrive as a pair of argv elements): the same
 * checks, temp file, mode, rename and removal of the .hbs as RENDER.
 */
const WRITE = String.raw`
use strict; use warnings; use Fcntl qw(O_WRONLY O_CREAT O_EXCL);
my $failed = 0;
while (@ARGV >= 2) {
  my ($f, $out) = splice(@ARGV, 0, 2);
  eval {
    die "bad template path\n" if $f !~ /\.hbs\z/ || $f =~ m{\A/} || grep { $_ eq '..' } split m{/}, $f;
    my @st = lstat($f) or die "$!\n";
    die "not a regular file\n" unless -f _;
    my $dest = substr($f, 0, -4);
    my $tmp = "$dest.gt-tmp";
    unlink($tmp);
    sysopen(my $fh, $tmp, O_WRONLY | O_CREAT | O_EXCL, $st[2] & 0777) or die "$!\n";
    print $fh $out or die "$!\n";
    close($fh) or die "$!\n";
    rename($tmp, $dest) or die "$!\n";
    unlink($f) or die "$!\n";
    1;
  } or do { print STDERR "$f: $@"; $failed++ };
}
exit($failed ? 1 : 0);
`;

/** The text a template of the cartridge was copied from (the node's repository copy); null: unknown. */
export type TemplateSource = (rel: string) => Promise<string | null>;

/** Rendered texts above this go through the gear's renderer (argv limits). */
const MAX_RENDERED_CHARS = 256 * 1024;

/**
 * Render here what is plain variable substitution (simple-templates.ts: Handlebars' parser decides, nothing
 * is compiled or run), with exactly the env the gear's renderer would see: [path, text] pairs, or null
 * when one template is not simple or its repository text is unknown (then the gear renders them all).
 */
async function renderHere(
  ctx: NodeContext,
  g: GearRef,
  records: readonly Pick<CartridgeRecord, "dir" | "shortName">[],
  self: string,
  files: readonly string[],
  source: TemplateSource,
): Promise<[string, string][] | null> {
  const { renderSimple, simpleTemplate } = await import("./simple-templates");
  const parsed: [string, NonNullable<ReturnType<typeof simpleTemplate>>][] = [];
  for (const f of files) {
    const text = await source(f);
    const t = text === null ? null : simpleTemplate(text);
    if (!t) return null;
    parsed.push([f, t]);
  }
  const env = await gearProcessEnv(ctx, g.uuid, await gearHookEnv(ctx, g, records, self));
  const out = parsed.map(([f, t]): [string, string] => [f, renderSimple(t, env)]);
  return out.reduce((n, [, text]) => n + text.length, 0) > MAX_RENDERED_CHARS ? null : out;
}

/**
 * Render the given templates (paths relative to the cartridge dir) as the gear. With their repository
 * `source`, simple templates are rendered by the node and only written by the gear (a perl start instead
 * of a Node.js one with Handlebars: most of an install's template pass); any other goes through RENDER.
 */
export async function renderTemplates(
  ctx: NodeContext,
  g: GearRef,
  records: readonly Pick<CartridgeRecord, "dir" | "shortName">[],
  self: string,
  files: readonly string[],
  label: string,
  source?: TemplateSource,
): Promise<void> {
  if (files.length === 0) return;
  const rendered = source ? await renderHere(ctx, g, records, self, files, source) : null;
  await runHookOk(ctx, g, records, self, {
    argv: rendered
      ? [PERL, "-e", WRITE, ...rendered.flat()]
      : [process.execPath, "-e", RENDER, require.resolve("handlebars"), ...files],
    label,
    timeoutMs: 60_000,
  });
}
