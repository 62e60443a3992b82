// The AppSource resource's decisions, pure (docs/providers.md "AppSource"): what its inputs must be, when
// the code is pushed again (a new content hash or another git URL, nothing else), the content hash of a
// directory's files, and the ssh client's configuration and known_hosts line that pin the node's gear git
// sshd. No I/O and no Pulumi import: operations.ts performs.

import { createHash } from "crypto";
import { KEY_NAME } from "../../common/broker-wire";
import type { BrokerConnection, CheckFailure } from "../application/model";
import { UNKNOWN } from "../application/model";

/** Bumped when what the provider does changes. */
export const APP_SOURCE_PROVIDER_VERSION = 1;

/** Where the node's gear git sshd is reached and the host key it must present (the Platform's `nodes[].gitSsh`). */
export interface GitSshHost {
  /** IPv4 address or host name the ssh client connects to (the git URL's host may not resolve here). */
  readonly address: string;
  readonly port: number;
  /** The sshd's public host key, one OpenSSH line `<type> <base64> [comment]`: the only key accepted. */
  readonly hostKey: string;
}

export interface AppSourceInputs {
  /** The broker and the credentials of the application's owner: the push key is registered for that user. */
  readonly connection: BrokerConnection;
  /** The application's git URL (`ssh://<gear>@<node>:<port>/~/git/<app>.git/`). */
  readonly gitUrl: string;
  readonly sshHost: GitSshHost;
  /** Absolute path of the directory whose files are pushed. */
  readonly directory: string;
  /** sha256 of the directory's files ({@link sourceHash}); a change pushes again. */
  readonly sourceHash: string;
  readonly providerVersion: number;
}

export interface AppSourceOutputs extends AppSourceInputs {
  /** The commit the application's repository has for this source. */
  readonly commit: string;
}

/** One file of a source tree: its path (`/`-separated, relative), whether it is executable, its content. */
export interface SourceFile {
  readonly path: string;
  readonly executable: boolean;
  readonly content: Buffer;
}

const GIT_URL =
  /^ssh:\/\/([0-9a-f]{32})@([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))?\/~\/git\/[a-z][a-z0-9]{0,31}\.git\/?$/;
const ADDRESS =
  /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/;
const HOST_KEY =
  /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,2}(?: [^\r\n]*)?$/;
const DIRECTORY = /^\/[A-Za-z0-9._/@+-]+$/;
const HASH = /^[0-9a-f]{64}$/;
/** The name the pinned host key is filed under (ssh's HostKeyAlias), whatever the URL's host is. */
export const HOST_KEY_ALIAS = "geartrain-gear-git";

const known = (v: unknown) => v !== undefined && v !== UNKNOWN;
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The parts of a gear's git URL, or null when it is not one. */
export function parseGitUrl(url: string): { gear: string; host: string; port: number } | null {
  const m = GIT_URL.exec(url);
  if (!m) return null;
  return { gear: m[1]!, host: m[2]!, port: m[3] === undefined ? 22 : Number(m[3]) };
}

/** Problems with the inputs, each naming its property; values not known yet (preview) are not judged. */
export function checkAppSource(news: Partial<AppSourceInputs>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const conn = news.connection as Partial<BrokerConnection> | undefined;
  if (known(conn) && (!isObj(conn) || typeof conn.server !== "string" || conn.server.trim() === ""))
    failures.push({ property: "connection.server", reason: "the broker's URL is required" });
  let urlPort: number | undefined;
  if (known(news.gitUrl)) {
    const parsed = typeof news.gitUrl === "string" ? parseGitUrl(news.gitUrl) : null;
    if (parsed === null)
      failures.push({
        property: "gitUrl",
        reason: `${JSON.stringify(news.gitUrl)} is not a gear's git URL (ssh://<gear>@<host>[:port]/~/git/<app>.git/)`,
      });
    else urlPort = parsed.port;
  }
  const ssh = news.sshHost as Partial<GitSshHost> | undefined;
  if (known(ssh)) {
    if (!isObj(ssh)) failures.push({ property: "sshHost", reason: "must be {address, port, hostKey}" });
    else {
      if (known(ssh.address) && (typeof ssh.address !== "string" || !ADDRESS.test(ssh.address)))
        failures.push({ property: "sshHost.address", reason: "must be an IPv4 address or a host name" });
      if (known(ssh.port) && !(Number.isInteger(ssh.port) && ssh.port! >= 1 && ssh.port! <= 65535))
        failures.push({ property: "sshHost.port", reason: "must be a TCP port (1-65535)" });
      else if (known(ssh.port) && urlPort !== undefined && ssh.port !== urlPort)
        failures.push({
          property: "sshHost.port",
          reason: `is ${ssh.port}, but the git URL names port ${urlPort}: they must be the same sshd`,
        });
      if (known(ssh.hostKey) && (typeof ssh.hostKey !== "string" || !HOST_KEY.test(ssh.hostKey)))
        failures.push({
          property: "sshHost.hostKey",
          reason: "must be one OpenSSH public host key line `<type> <base64> [comment]` (it is pinned)",
        });
    }
  }
  if (
    known(news.directory) &&
    (typeof news.directory !== "string" ||
      !DIRECTORY.test(news.directory) ||
      news.directory.split("/").includes(".."))
  )
    failures.push({
      property: "directory",
      reason: "must be an absolute path of [A-Za-z0-9._/@+-], no '..'",
    });
  if (known(news.sourceHash) && (typeof news.sourceHash !== "string" || !HASH.test(news.sourceHash)))
    failures.push({ property: "sourceHash", reason: "must be a sha256 in hex" });
  return failures;
}

/**
 * A push only when the code or its destination changed: a new content hash, or another git URL (the
 * application was made again). The connection, the directory's path (a moved checkout) or the host's
 * address are how to get there, not what is there.
 */
export function diffAppSource(olds: Partial<AppSourceOutputs>, news: AppSourceInputs) {
  const changed = (["sourceHash", "gitUrl"] as const).filter((k) => olds[k] !== news[k]);
  return { changes: changed.length > 0, replaces: [] as string[], deleteBeforeReplace: false };
}

/**
 * The content hash of a tree: each file's path, executable bit and content digest, in path order (what a
 * git commit of the tree holds, so a change of any of them is a new push and nothing else is).
 */
export function sourceHash(files: readonly SourceFile[]): string {
  const h = createHash("sha256");
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const digest = createHash("sha256").update(f.content).digest("hex");
    h.update(`${f.executable ? "100755" : "100644"} ${digest} ${f.path}\0`);
  }
  return h.digest("hex");
}

/** The directories a source tree never takes in: git's own, and installed dependencies (the build makes them). */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([".git", "node_modules"]);

/**
 * The ssh client's whole configuration for the push (`ssh -F`): only the given key, only the pinned host
 * key (StrictHostKeyChecking yes against a known_hosts of one line, no global file), no agent, no prompts.
 * Every value is checked first (checkAppSource), and the paths are the provider's own temporary files.
 */
export function renderSshConfig(host: GitSshHost, files: { identity: string; knownHosts: string }): string {
  for (const [name, value] of Object.entries({ ...files, address: host.address }))
    if (/[\s"#]/.test(value) || value === "")
      throw new Error(`unexpected ${name} for the ssh config: ${value}`);
  return [
    "Host *",
    `  HostName ${host.address}`,
    `  Port ${host.port}`,
    `  HostKeyAlias ${HOST_KEY_ALIAS}`,
    `  UserKnownHostsFile ${files.knownHosts}`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  UpdateHostKeys no",
    "  CheckHostIP no",
    `  IdentityFile ${files.identity}`,
    "  IdentitiesOnly yes",
    "  IdentityAgent none",
    "  PasswordAuthentication no",
    "  KbdInteractiveAuthentication no",
    "  BatchMode yes",
    "  ConnectTimeout 30",
    "  ServerAliveInterval 15",
    "",
  ].join("\n");
}

/** The known_hosts file: the pinned key under the alias the config names (its comment dropped). */
export function renderKnownHosts(host: GitSshHost): string {
  const [type, blob] = host.hostKey.split(" ");
  return `${HOST_KEY_ALIAS} ${type} ${blob}\n`;
}

/** A key name of the broker's rule, unique per push (`random`: hex). */
export function pushKeyName(random: string): string {
  const name = `geartrain-push-${random}`;
  if (!new RegExp(KEY_NAME).test(name)) throw new Error(`unexpected key name ${name}`);
  return name;
}

/** An OpenSSH public key line as the broker's ADD_KEY takes it: `{type, content}` (the base64 body). */
export function publicKeyParts(line: string): { type: string; content: string } {
  const m = /^(ssh-ed25519) ([A-Za-z0-9+/]+={0,3})(?: |$)/.exec(line.trim());
  if (!m) throw new Error("ssh-keygen wrote an unexpected public key");
  return { type: m[1]!, content: m[2]! };
}
