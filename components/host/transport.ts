// How the dynamic resources under Host's components (a Service's daemon, an installed release) reach a host:
// a local child process, or one SSH session (ssh2, the pinned host key, dial retries with a delay) that runs
// one argv (each word quoted) or uploads one file over SFTP. Values travel as argv words and stdin, never
// pasted into a script.
import * as fs from "fs";
import { Client } from "ssh2";
import { runProgram } from "../../common/exec";
import { shellQuote } from "./service/render";

/** What a dynamic resource needs to reach its host (the SSH form carries the private key: keep it secret). */
export type HostTransport =
  | { readonly type: "local" }
  | {
      readonly type: "ssh";
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly hostKey: string;
      readonly privateKey: string;
      readonly perDialTimeout: number;
      /** Failed dials before giving up (-1 counts as the default budget: a resource never waits forever). */
      readonly dialErrorLimit: number;
    };

type SshTransport = Extract<HostTransport, { type: "ssh" }>;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_DIALS = 10;

async function runLocal(argv: readonly string[], stdin: string): Promise<RunResult> {
  const r = await runProgram(argv, { input: stdin });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function dialOnce(c: SshTransport): Promise<Client> {
  const [keyType, keyBlob] = c.hostKey.trim().split(/\s+/);
  const pinned = Buffer.from(keyBlob ?? "", "base64");
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () => resolve(client))
      .on("error", (err) => reject(err))
      .connect({
        host: c.host,
        port: c.port,
        username: c.user,
        privateKey: c.privateKey,
        readyTimeout: c.perDialTimeout * 1000,
        algorithms: { serverHostKey: [keyType as never] },
        hostVerifier: (key: Buffer) => key.equals(pinned),
      });
  });
}

async function dial(c: SshTransport): Promise<Client> {
  const budget = c.dialErrorLimit > 0 ? c.dialErrorLimit : DEFAULT_DIALS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await dialOnce(c);
    } catch (err) {
      const message = (err as Error).message;
      if (/authentication|verif/i.test(message) || attempt >= budget) {
        throw new Error(
          `could not connect to ${c.user}@${c.host}:${c.port} after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${message}`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** (attempt - 1), 5000)));
    }
  }
}

function execOn(client: Client, argv: readonly string[], stdin: string): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    client.exec(argv.map(shellQuote).join(" "), (err, stream) => {
      if (err) return reject(err);
      let stdout = "";
      let stderr = "";
      stream.on("data", (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      stream.on("close", (code: number | null) => resolve({ code: code ?? -1, stdout, stderr }));
      stream.end(stdin);
    });
  });
}

/** Runs argv on the host (over SSH each word quoted for the login shell); resolves with its exit code. */
export async function runOn(conn: HostTransport, argv: readonly string[], stdin = ""): Promise<RunResult> {
  if (conn.type === "local") return runLocal(argv, stdin);
  const client = await dial(conn);
  try {
    return await execOn(client, argv, stdin);
  } finally {
    client.end();
  }
}

/**
 * Copies the local file `source` to `target` on the host (SFTP over the pinned SSH connection, or a plain
 * copy for a local host), created with `mode`. `target` must be a path the caller validated.
 */
export async function uploadTo(
  conn: HostTransport,
  source: string,
  target: string,
  mode = 0o600,
): Promise<void> {
  if (conn.type === "local") {
    await fs.promises.copyFile(source, target);
    await fs.promises.chmod(target, mode);
    return;
  }
  const client = await dial(conn);
  try {
    await new Promise<void>((resolve, reject) => {
      client.sftp((err, sftp) => {
        if (err) return reject(new Error(`sftp to ${conn.host}: ${err.message}`));
        sftp.fastPut(source, target, { mode }, (e) => {
          sftp.end();
          if (e) reject(new Error(`upload of ${source} to ${conn.host}:${target} failed: ${e.message}`));
          else resolve();
        });
      });
    });
  } finally {
    client.end();
  }
}
