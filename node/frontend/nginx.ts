// nginx as the frontend layer uses it: `nginx -t` on the whole config and a reload that returns only once
// nginx serves the new config. argv arrays only.

import { promises as fs } from "fs";
import * as path from "path";
import { OperationFailedError } from "../../common/errors";
import { run } from "../host/exec";
import type { FrontendConfig } from "../types";

/** nginx refused or failed a change (previous files restored), or a route file is damaged. */
export class FrontendError extends OperationFailedError {
  constructor(message: string) {
    super(message, "frontend_failed");
  }
}

/** -p / -c / -g arguments that select this node's nginx instance. */
export function nginxInstanceArgs(fe: FrontendConfig): string[] {
  return [
    ...(fe.prefix ? ["-p", `${fe.prefix}/`] : []),
    "-c",
    fe.nginxConf,
    ...(fe.pidFile ? ["-g", `pid ${fe.pidFile};`] : []),
  ];
}

export function testArgv(fe: FrontendConfig): string[] {
  return [fe.nginxBinary, "-t", "-q", ...nginxInstanceArgs(fe)];
}

export function reloadArgv(fe: FrontendConfig): string[] {
  return fe.reloadCommand
    ? [...fe.reloadCommand]
    : [fe.nginxBinary, ...nginxInstanceArgs(fe), "-s", "reload"];
}

function message(stdout: string, stderr: string, code: number): string {
  return (stderr.trim() || stdout.trim() || `exit ${code}`).replace(/\s*\n\s*/g, "; ");
}

/** nginx -t on the whole configuration: null when it passes, else nginx's message. */
export async function nginxTest(fe: FrontendConfig): Promise<string | null> {
  const argv = testArgv(fe);
  try {
    const r = await run(argv, { timeoutMs: 60_000 });
    return r.code === 0 ? null : message(r.stdout, r.stderr, r.code);
  } catch (e) {
    return `${(e as Error).message} (install nginx: apt-get install -y nginx)`;
  }
}

/** nginx's words for "no master process to signal" (the pid file is missing, empty or stale). */
const NOT_RUNNING =
  /\.pid" failed \(2: No such file|invalid PID number|kill\(\d+, 1\) failed \(3: No such process\)/;

/**
 * `switched: false`: the reload was signalled but nginx did not switch to the new configuration in time
 * (it may still do so later, or it kept the old one: see its error log).
 */
export type ReloadResult =
  { ok: true } | { ok: false; notRunning: boolean; switched?: false; message: string };

/** How long a reload may take to switch every worker to the new configuration. */
export const RELOAD_SWITCH_TIMEOUT_MS = 10_000;

const WORKER_TITLE = "nginx: worker process";
const SHUTTING_DOWN_TITLE = "nginx: worker process is shutting down";

/** nginx's compiled-in pid path (`nginx -V`: --pid-path), per binary. */
const compiledPidPath = new Map<string, Promise<string | null>>();

async function pidPathOf(binary: string): Promise<string | null> {
  let p = compiledPidPath.get(binary);
  if (!p) {
    p = run([binary, "-V"], { timeoutMs: 30_000 }).then(
      (r) => /--pid-path=(\S+)/.exec(r.stderr + r.stdout)?.[1] ?? null,
      () => null,
    );
    compiledPidPath.set(binary, p);
  }
  return p;
}

/**
 * The pid file of this node's nginx: `frontend.pidFile`, else the main-context `pid` directive of
 * `frontend.nginxConf` (relative to the prefix), else nginx's compiled-in default.
 */
export async function masterPidFile(fe: FrontendConfig): Promise<string | null> {
  if (fe.pidFile) return fe.pidFile;
  const conf = await fs.readFile(fe.nginxConf, "utf8").catch(() => "");
  // the main context is everything outside blocks; `pid` is only valid there
  let depth = 0;
  let main = "";
  for (const line of conf.split("\n")) {
    const code = line.replace(/#.*$/, "");
    if (depth === 0) main += code + "\n";
    depth += (code.match(/\{/g) ?? []).length - (code.match(/\}/g) ?? []).length;
  }
  const m = /(?:^|[;\s])pid\s+([^;\s]+)\s*;/.exec(main);
  if (m) return path.isAbsolute(m[1]) ? m[1] : path.join(fe.prefix ?? "/usr/share/nginx", m[1]);
  return pidPathOf(fe.nginxBinary);
}

async function masterPid(fe: FrontendConfig): Promise<number | null> {
  const file = await masterPidFile(fe);
  if (!file) return null;
  const pid = Number((await fs.readFile(file, "utf8").catch(() => "")).trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) return null;
  const alive = await fs.access(`/proc/${pid}`).then(
    () => true,
    () => false,
  );
  return alive ? pid : null;
}

async function childPids(pid: number): Promise<number[]> {
  const direct = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => null);
  if (direct !== null) return direct.split(/\s+/).filter(Boolean).map(Number);
  // kernels without CONFIG_PROC_CHILDREN: scan /proc for the parent pid
  const out: number[] = [];
  for (const name of await fs.readdir("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === pid) out.push(Number(name));
  }
  return out;
}

/** The master's worker processes: pid → still accepting (false once it is shutting down). */
async function workers(master: number): Promise<Map<number, boolean>> {
  const out = new Map<number, boolean>();
  for (const pid of await childPids(master)) {
    const title = (await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => ""))
      .replace(/\0+/g, " ")
      .trim();
    if (title === SHUTTING_DOWN_TITLE) out.set(pid, false);
    else if (title === WORKER_TITLE) out.set(pid, true);
  }
  return out;
}

/**
 * Wait until nginx serves the new configuration: at least one worker that did not exist before the reload
 * accepts connections, and every worker from before is gone or shutting down. A worker marks itself
 * shutting down ("nginx: worker process is shutting down") right before it closes its listening sockets,
 * and the master starts the new workers before it tells the old ones to stop; from then on every new
 * connection gets the new configuration. Old workers may keep finishing requests they already have
 * (long proxied requests, websockets) for as long as they need: that is not waited for.
 */
async function waitForSwitch(
  master: number,
  before: ReadonlyMap<number, boolean>,
  timeoutMs: number,
): Promise<string | null> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const now = await workers(master);
    const fresh = [...now].some(([pid, accepting]) => accepting && !before.has(pid));
    const stale = [...before.keys()].filter((pid) => now.get(pid) === true);
    if (fresh && stale.length === 0) return null;
    if (Date.now() >= end) {
      return `nginx did not switch to the new configuration within ${timeoutMs / 1000} s: ${
        fresh ? "" : "no new worker process; "
      }${stale.length ? `old worker(s) ${stale.join(", ")} still accept connections; ` : ""}master ${master} (see nginx's error log)`;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Reload nginx (nginx -s reload, or the configured command) and return once it serves the new
 * configuration (see waitForSwitch), at most `switchTimeoutMs` later (0: signal only, do not wait). Without
 * a running master found through its pid file before the reload, there is nothing to wait for.
 */
export async function nginxReload(
  fe: FrontendConfig,
  opts: { switchTimeoutMs?: number } = {},
): Promise<ReloadResult> {
  const argv = reloadArgv(fe);
  const timeoutMs = opts.switchTimeoutMs ?? RELOAD_SWITCH_TIMEOUT_MS;
  const master = timeoutMs > 0 ? await masterPid(fe) : null;
  const before = master !== null ? await workers(master) : new Map<number, boolean>();
  try {
    const r = await run(argv, { timeoutMs: 60_000 });
    if (r.code !== 0) {
      const msg = message(r.stdout, r.stderr, r.code);
      return { ok: false, notRunning: !fe.reloadCommand && NOT_RUNNING.test(r.stderr), message: msg };
    }
  } catch (e) {
    return { ok: false, notRunning: false, message: (e as Error).message };
  }
  // no master or no workers (master_process off) before the reload: nothing to compare against
  if (master === null || before.size === 0) return { ok: true };
  const late = await waitForSwitch(master, before, timeoutMs);
  return late === null ? { ok: true } : { ok: false, notRunning: false, switched: false, message: late };
}
