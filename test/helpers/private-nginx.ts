// A private nginx instance for tests and development: its own prefix, config, pid file, logs and temp dirs
// under one directory, listening on 127.0.0.1:<port>, never the system nginx. Returns the `frontend`
// section of a node config that points the frontend layer at it.

import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "fs";
import * as net from "net";
import * as path from "path";
import { run } from "../../node/host/exec";
import type { FrontendConfig, FrontendTlsConfig } from "../../node/types";

export const NGINX = "/usr/sbin/nginx";

export interface PrivateNginx {
  readonly dir: string;
  readonly port: number;
  /** the TLS port when started with `tls` */
  readonly tlsPort: number | null;
  readonly confPath: string;
  readonly pidFile: string;
  /** the node config `frontend` section for this instance */
  readonly frontend: FrontendConfig;
  /** error log contents (for test failure messages) */
  errorLog(): string;
  /** stop (fast shutdown) and wait until the master process is gone */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on host. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function renderPrivateConf(dir: string): string {
  return `# private nginx for Geartrain tests/dev (test/helpers/private-nginx.ts)
worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    include ${dir}/conf.d/*.conf;
}
`;
}

/** The TLS part of startPrivateNginx's options: certificate and key files; the port is free if not given. */
export interface PrivateNginxTls {
  readonly certificate: string;
  readonly key: string;
  readonly port?: number;
  readonly http2?: boolean;
}

/**
 * Start nginx with everything under `dir` (created; must be an absolute path of [A-Za-z0-9._/-]).
 * With `tls`, the frontend section also has a TLS listener on 127.0.0.1:<tls port> (frontend.tls).
 * Missing nginx fails with the install command.
 */
export async function startPrivateNginx(
  dir: string,
  opts: { port?: number; idleStarter?: string; tls?: PrivateNginxTls } = {},
): Promise<PrivateNginx> {
  if (!existsSync(NGINX))
    throw new Error(`${NGINX} is missing. Fix: apt-get update && apt-get install -y nginx`);
  if (!/^\/[A-Za-z0-9._/-]+$/.test(dir))
    throw new Error(`private nginx dir must be a plain absolute path: ${dir}`);
  mkdirSync(path.join(dir, "conf.d"), { recursive: true });
  mkdirSync(path.join(dir, "tmp"), { recursive: true });
  chmodSync(dir, 0o755); // workers (nobody) reach their temp dirs
  const port = opts.port ?? (await freePort());
  const tlsPort = opts.tls ? (opts.tls.port ?? (await freePort())) : null;
  const tls: FrontendTlsConfig | null = opts.tls
    ? {
        listen: `127.0.0.1:${tlsPort}`,
        certificate: opts.tls.certificate,
        key: opts.tls.key,
        http2: opts.tls.http2 ?? true,
      }
    : null;
  const confPath = path.join(dir, "nginx.conf");
  const pidFile = path.join(dir, "nginx.pid");
  writeFileSync(confPath, renderPrivateConf(dir));
  const frontend: FrontendConfig = {
    confDir: path.join(dir, "conf.d"),
    nginxConf: confPath,
    nginxBinary: NGINX,
    prefix: dir,
    pidFile,
    reloadCommand: null,
    listen: `127.0.0.1:${port}`,
    idleStarter: opts.idleStarter ?? "127.0.0.1:8099",
    tls,
  };
  const argv = [NGINX, "-p", `${dir}/`, "-c", confPath, "-g", `daemon on; pid ${pidFile};`];
  const r = await run(argv, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`nginx did not start: ${argv.join(" ")}: ${r.stderr.trim()}`);
  const errorLog = () =>
    existsSync(path.join(dir, "error.log")) ? readFileSync(path.join(dir, "error.log"), "utf8") : "";
  return {
    dir,
    port,
    tlsPort,
    confPath,
    pidFile,
    frontend,
    errorLog,
    async stop() {
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : NaN;
      if (!Number.isInteger(pid) || pid <= 0) return;
      try {
        process.kill(pid, "SIGTERM"); // fast shutdown: the master stops its workers, then exits
      } catch {
        return;
      }
      for (let i = 0; i < 200 && pidAlive(pid); i++) await new Promise((res) => setTimeout(res, 50));
      if (pidAlive(pid)) {
        process.kill(pid, "SIGKILL");
        throw new Error(`nginx master ${pid} did not stop within 10 s (killed); error log:\n${errorLog()}`);
      }
    },
  };
}
