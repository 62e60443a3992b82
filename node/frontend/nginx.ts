// nginx as the frontend layer uses it: `nginx -t` on the whole config and a reload. argv arrays only.

import { run } from "../exec";
import type { FrontendConfig } from "../types";

export class FrontendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrontendError";
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

export type ReloadResult = { ok: true } | { ok: false; notRunning: boolean; message: string };

/** Reload nginx (nginx -s reload, or the configured command). */
export async function nginxReload(fe: FrontendConfig): Promise<ReloadResult> {
  const argv = reloadArgv(fe);
  try {
    const r = await run(argv, { timeoutMs: 60_000 });
    if (r.code === 0) return { ok: true };
    const msg = message(r.stdout, r.stderr, r.code);
    return { ok: false, notRunning: !fe.reloadCommand && NOT_RUNNING.test(r.stderr), message: msg };
  } catch (e) {
    return { ok: false, notRunning: false, message: (e as Error).message };
  }
}
