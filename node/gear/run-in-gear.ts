// runInGear: the one way the node starts a process for a gear (cartridge hooks, git deploys, tests).
// The child joins the gear's cgroups *before* it runs any gear code, then drops to the gear's uid/gid (no
// supplementary groups), gets umask 077, the gear env, and (with SELinux) the gear's exec context: the gear
// domain geartrain_gear_t at the gear's MCS level (node/host/selinux/).
//
// The steps between fork and exec are done by a fixed Perl program (perl-base is Essential on Debian):
// Node cannot run code between fork and exec, and without that a process can fork before it is moved into
// the cgroup. The program text is a constant; every value reaches it as an argv element, and perl starts
// with an empty environment (no PERL5LIB/PERL5OPT), so no input is ever interpreted as code.
// It drops ids with perl's own $) $( $> $< (in that order, which also sets the saved ids) and checks the
// result in /proc/self/status (real, effective, saved and fs uid and gid, the one group): loading POSIX for
// setuid() would take longer than all the rest of the program (~17 ms of every gear process start).

import { ChildProcess, spawn, StdioOptions } from "child_process";
import * as path from "path";
import { ValidationError } from "../../common/errors";
import type { NodeContext } from "../context";
import { GEAR_UMASK, processEnv } from "./env";
import { mcsLabel } from "../host/mcs";
import { currentContext, gearExecContext, withSocketsAtS0 } from "../host/selinux/label";
import { ENV_NAME_PATTERN } from "../../common/env-names";
import { validateUuid } from "../validate";
import { readPasswd } from "../host/accounts";
import { GearDir } from "../host/gear-fs";

export const PERL = "/usr/bin/perl";

const HELPER = String.raw`
use strict; use warnings;
my ($uid, $gid, $umask, $ctx) = splice(@ARGV, 0, 4);
my (@procs, %env);
while (@ARGV && $ARGV[0] ne '--') { push @procs, shift @ARGV } shift @ARGV;
while (@ARGV && $ARGV[0] ne '--') { my $kv = shift @ARGV; my $i = index($kv, '='); $env{substr($kv, 0, $i)} = substr($kv, $i + 1) } shift @ARGV;
die "geartrain-exec: no command\n" unless @ARGV;
for my $p (@procs) {
  open(my $fh, '>', $p) or die "geartrain-exec: open $p: $!\n";
  print $fh "$$\n" or die "geartrain-exec: write $p: $!\n";
  close($fh) or die "geartrain-exec: join $p: $!\n";
}
if ($ctx ne '-') {
  sysopen(my $fh, '/proc/thread-self/attr/exec', 1) or die "geartrain-exec: setexeccon: $!\n";
  syswrite($fh, $ctx) or die "geartrain-exec: setexeccon $ctx: $!\n"; close($fh);
}
$) = "$gid $gid";
$( = $gid;
$> = $uid;
$< = $uid;
open(my $st, '<', '/proc/self/status') or die "geartrain-exec: /proc/self/status: $!\n";
my %ids = map { /^(Uid|Gid|Groups):\s*(.*?)\s*$/ ? ($1, $2) : () } <$st>;
close($st);
die "geartrain-exec: uid not dropped\n" unless ($ids{Uid} // '') eq join("\t", ($uid) x 4);
die "geartrain-exec: gid not dropped\n" unless ($ids{Gid} // '') eq join("\t", ($gid) x 4) && ($ids{Groups} // '') eq $gid;
die "geartrain-exec: uid not dropped\n" unless $< == $uid && $> == $uid;
die "geartrain-exec: gid not dropped\n" unless $( + 0 == $gid && $) + 0 == $gid;
for my $g (split ' ', $)) { die "geartrain-exec: extra group $g\n" unless $g == $gid }
umask(oct($umask));
%ENV = %env;
exec { $ARGV[0] } @ARGV or do { print STDERR "geartrain-exec: exec $ARGV[0]: $!\n"; exit 127 };
`;

export interface GearProcessOptions {
  /** working directory: absolute inside the home, or relative to it (default: the home) */
  readonly cwd?: string;
  /** extra env vars for this process (override the gear's) */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdio?: StdioOptions;
}

export interface RunOptions extends GearProcessOptions {
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
}

/** Output kept per stream of runInGear (the rest is read and dropped: a gear can print without end). */
export const MAX_CAPTURE_CHARS = 4 << 20;

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** ~/.env as it is (root-owned): each regular, root-owned variable file, value unchanged. */
async function readEnvDir(abs: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const dir = await GearDir.open(abs);
  if (!dir) return out;
  try {
    for (const name of await dir.list()) {
      if (!ENV_NAME_PATTERN.test(name)) continue;
      const r = await dir.readFile(name, { owners: [0] });
      if (r.kind === "file") out[name] = r.text;
    }
  } finally {
    await dir.close();
  }
  return out;
}

/** The environment a process started in gear `uuid` with `extra` gets (exactly: perl sets nothing else). */
export async function gearProcessEnv(
  ctx: NodeContext,
  uuid: string,
  extra: Readonly<Record<string, string>> | undefined,
): Promise<Record<string, string>> {
  const home = path.join(ctx.config.gearBaseDir, uuid);
  return processEnv(
    uuid,
    await readEnvDir(path.join(home, ".env")),
    await readEnvDir(path.join(home, ".env/user_vars")),
    extra,
  );
}

async function prepare(ctx: NodeContext, uuid: string, argv: readonly string[], opts: GearProcessOptions) {
  validateUuid(uuid);
  if (argv.length === 0 || argv.some((a) => typeof a !== "string" || a.includes("\0"))) {
    throw new ValidationError("argv", "must be a non-empty list of strings without NUL");
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME_PATTERN.test(k)) throw new ValidationError("env", `bad variable name ${JSON.stringify(k)}`);
    if (typeof v !== "string" || v.includes("\0"))
      throw new ValidationError(`env.${k}`, "value must be a string without NUL");
  }
  const user = (await readPasswd()).find((u) => u.name === uuid && u.gecos === ctx.config.gecos);
  if (!user) throw new Error(`gear ${uuid} does not exist on this node`);
  if (!(await ctx.cgroup.gearExists(uuid)))
    throw new Error(`gear ${uuid} has no cgroup; run: geartrain node gear update`);
  const home = path.join(ctx.config.gearBaseDir, uuid);
  const cwd = opts.cwd ? path.resolve(home, opts.cwd) : home;
  if (cwd !== home && !cwd.startsWith(`${home}/`))
    throw new ValidationError("cwd", "must be inside the gear home");
  const env = await gearProcessEnv(ctx, uuid, opts.env);
  // under SELinux: the gear domain at the gear's level, keeping this process's SELinux user and role
  const current = ctx.selinux === "unavailable" ? null : await currentContext();
  const secon = current === null ? "-" : gearExecContext(current, mcsLabel(user.uid));
  const args = [
    "-e",
    HELPER,
    String(user.uid),
    String(user.uid),
    GEAR_UMASK.toString(8).padStart(3, "0"),
    secon,
    ...ctx.cgroup.procsFiles(uuid),
    "--",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    "--",
    ...argv,
  ];
  return { args, cwd, current };
}

/** Start a process in the gear and return it (for long-running processes). */
export async function spawnInGear(
  ctx: NodeContext,
  uuid: string,
  argv: readonly string[],
  opts: GearProcessOptions = {},
): Promise<ChildProcess> {
  const { args, cwd, current } = await prepare(ctx, uuid, argv, opts);
  const start = () => spawn(PERL, args, { cwd, env: {}, stdio: opts.stdio ?? "pipe" });
  // under SELinux the stdio sockets are made at s0, so the gear's level may use them
  return current === null ? start() : withSocketsAtS0(current, start);
}

/** Run a command in the gear to completion and collect its output. */
export async function runInGear(
  ctx: NodeContext,
  uuid: string,
  argv: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const child = await spawnInGear(ctx, uuid, argv, { ...opts, stdio: "pipe" });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const keep = (had: string, d: string) =>
      had.length >= MAX_CAPTURE_CHARS ? had : (had + d).slice(0, MAX_CAPTURE_CHARS);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout = keep(stdout, d)));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = keep(stderr, d)));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : null;
    child.on("error", reject);
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    };
    child.on("close", finish);
    // a background process the command started may hold our pipes open: once the command itself has
    // exited, stop reading shortly after instead of waiting for every descendant
    child.on("exit", (code, signal) => {
      setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish(code, signal);
      }, 200).unref();
    });
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(opts.input ?? "");
  });
}
