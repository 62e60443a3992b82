// A throw-away OpenSSH server for tests that need real logins of real accounts (e.g. gear users pushing
// with git): 127.0.0.1 only, a free high port, a temp host key, the caller's sshd_config lines on top of
// safe defaults. stop() kills it and removes its files. Modelled on test/integration/command-provider/sshd.ts
// (which serves root with a temp authorized_keys file).

import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { GEAR_GIT_SSHD_OPTIONS } from "../../components/nodehost/render";
import { freePort } from "./private-nginx";

export { freePort };

export const SSHD = "/usr/sbin/sshd";

export function requireOpenSsh(): void {
  const missing = [SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen"].filter((f) => !fs.existsSync(f));
  if (missing.length) {
    throw new Error(
      `missing ${missing.join(", ")}. Fix: apt-get update && apt-get install -y openssh-server openssh-client ` +
        "(both are in scripts/debian-packages.txt)",
    );
  }
}

export function keygen(
  file: string,
  type: "ed25519" | "ecdsa" | "rsa" = "ed25519",
  comment = "test",
): string {
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", comment, "-f", file], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return fs.readFileSync(`${file}.pub`, "utf8").trim();
}

/** Stops a test sshd (SIGTERM, SIGKILL after 5 s) and removes its directory. */
export function stopSshd(child: ChildProcess, dir: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const cleanup = () => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) {
      cleanup();
      return;
    }
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(killer);
      cleanup();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Resolves once something on address:port answers with an SSH banner. Rejects with the error `exited` gives
 * as soon as it gives one (the server's process is gone), or with `timedOut()` after timeoutMs.
 */
export function bannerOn(
  address: string,
  port: number,
  timeoutMs: number,
  exited: () => Error | null,
  timedOut: () => Error,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const gone = exited();
      if (gone !== null) {
        reject(gone);
        return;
      }
      const sock = net.connect(port, address);
      let got = "";
      sock.setTimeout(1000);
      sock.on("data", (d) => {
        got += d.toString();
        if (got.startsWith("SSH-")) {
          sock.destroy();
          resolve();
        }
      });
      const retry = () => {
        sock.destroy();
        if (Date.now() > deadline) reject(timedOut());
        else setTimeout(attempt, 100);
      };
      sock.on("error", retry);
      sock.on("timeout", retry);
    };
    attempt();
  });
}

/** Resolves once something on 127.0.0.1:port answers with an SSH banner. */
export function waitForBanner(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  return bannerOn(
    "127.0.0.1",
    port,
    timeoutMs,
    () => (child.exitCode !== null ? new Error(`sshd exited with code ${child.exitCode}`) : null),
    () => new Error(`sshd did not answer on port ${port} within ${timeoutMs} ms`),
  );
}

/**
 * sshd_config of a node's gear git access, as the git deploy tests and benches run it: the NodeHost
 * component's own lines (components/nodehost/render.ts), so tests and deployed nodes agree.
 */
export const GEAR_GIT_SSHD_CONFIG: readonly string[] = GEAR_GIT_SSHD_OPTIONS;

export interface TestSshd {
  readonly port: number;
  readonly dir: string;
  /** "[127.0.0.1]:<port> <host key>" for a known_hosts file (StrictHostKeyChecking=yes) */
  readonly knownHostsLine: string;
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** sshd_config lines after the defaults (Port, ListenAddress, HostKey, PidFile are set here) */
  readonly config: readonly string[];
  /**
   * run sshd through a link with this name: OpenSSH uses its program name as the PAM service, so a test
   * can give it its own /etc/pam.d/<name> without touching the system's sshd stack
   */
  readonly programName?: string;
}

export async function startTestSshd(opts: SshdOptions): Promise<TestSshd> {
  requireOpenSsh();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-sshd-"));
  try {
    const hostKey = path.join(dir, "host_ed25519");
    keygen(hostKey, "ed25519", "geartrain-test-host");
    const hostPub = fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
    let program = SSHD;
    if (opts.programName) {
      program = path.join(dir, opts.programName);
      fs.symlinkSync(SSHD, program);
    }
    let lastError: Error | undefined;
    for (let tries = 0; tries < 3; tries++) {
      const port = await freePort();
      const config = path.join(dir, "sshd_config");
      fs.writeFileSync(
        config,
        [
          `Port ${port}`,
          "ListenAddress 127.0.0.1",
          `HostKey ${hostKey}`,
          `PidFile ${path.join(dir, "sshd.pid")}`,
          "LogLevel VERBOSE",
          ...opts.config,
          "",
        ].join("\n"),
      );
      const child = spawn(program, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
      let log = "";
      child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
      try {
        await waitForBanner(port, child, 10000);
      } catch (e) {
        child.kill("SIGKILL");
        lastError = new Error(`${(e as Error).message}\n--- sshd log ---\n${log}`);
        continue;
      }
      return {
        port,
        dir,
        knownHostsLine: `[127.0.0.1]:${port} ${hostPub}`,
        log: () => log,
        stop: () => stopSshd(child, dir),
      };
    }
    throw lastError ?? new Error("sshd did not start");
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
