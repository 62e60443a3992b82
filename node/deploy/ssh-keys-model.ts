// SSH public keys of a gear and its ~/.ssh/authorized_keys (pure). Every key line is rendered by us from
// validated parts only: a known key type, a canonical base64 blob whose wire format matches that type, a
// name from a strict pattern and a forced command made of checked words. Nothing from the input is ever
// copied into the file unvalidated, so options, quotes, newlines or a second `command=` cannot get in.

import { createHash } from "crypto";
import { ValidationError } from "../../common/errors";
import { SSH_KEY_NAME_PATTERN, SSH_KEY_TYPES, type SshKeyType } from "../../common/ssh-keys";

export const KEY_TYPES = SSH_KEY_TYPES;
export type KeyType = SshKeyType;

/** A key's name (the last part of the GEARTRAIN-<uuid>-<name> comment). */
export const KEY_NAME_PATTERN = SSH_KEY_NAME_PATTERN;
export const MAX_KEYS = 100;
export const MIN_RSA_BITS = 2048;
/** Longest accepted base64 blob (an RSA 16384-bit key is ≈ 2.8 kB). */
const MAX_BLOB_CHARS = 8192;
/** A word of the forced command: absolute paths and plain flags, nothing sshd or a shell would interpret. */
const COMMAND_WORD = /^[A-Za-z0-9._/+=:@-]+$/;

export const KEY_OPTIONS = "restrict,no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty";
export const COMMENT_PREFIX = "GEARTRAIN";

export interface SshKey {
  readonly type: KeyType;
  /** canonical base64 of the wire-format public key */
  readonly blob: string;
  readonly name: string;
}

function describe(value: unknown): string {
  const s = typeof value === "string" ? JSON.stringify(value) : String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function validateKeyName(value: unknown, field = "name"): string {
  if (typeof value !== "string" || !KEY_NAME_PATTERN.test(value)) {
    throw new ValidationError(
      field,
      `must match ${KEY_NAME_PATTERN.source}: letters, digits and . _ @ + - (up to 64), starting with a letter or digit (got ${describe(value)})`,
    );
  }
  return value;
}

/** Reads SSH wire-format strings from a buffer; every read is bounds-checked. */
class Wire {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  bytes(): Buffer {
    if (this.off + 4 > this.buf.length) throw new Error("truncated");
    const len = this.buf.readUInt32BE(this.off);
    this.off += 4;
    if (len > this.buf.length - this.off) throw new Error("truncated");
    const b = this.buf.subarray(this.off, this.off + len);
    this.off += len;
    return b;
  }
  text(): string {
    return this.bytes().toString("latin1");
  }
  done(): boolean {
    return this.off === this.buf.length;
  }
}

function mpintBits(b: Buffer): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]));
}

const EC_POINT_BYTES: Readonly<Record<string, number>> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** Check the blob's wire format against its declared type; returns an error text or null. */
function blobProblem(type: KeyType, blob: Buffer): string | null {
  const w = new Wire(blob);
  try {
    const inner = w.text();
    if (inner !== type) return `the key data is a ${describe(inner)} key, not ${type}`;
    switch (type) {
      case "ssh-ed25519":
      case "sk-ssh-ed25519@openssh.com": {
        if (w.bytes().length !== 32) return "bad ed25519 public key length";
        if (type.startsWith("sk-") && !w.text().startsWith("ssh:")) return "bad security key application";
        break;
      }
      case "ecdsa-sha2-nistp256":
      case "ecdsa-sha2-nistp384":
      case "ecdsa-sha2-nistp521":
      case "sk-ecdsa-sha2-nistp256@openssh.com": {
        const curve = w.text();
        const want = type.startsWith("sk-") ? "nistp256" : type.slice("ecdsa-sha2-".length);
        if (curve !== want) return `curve ${describe(curve)} does not match ${type}`;
        const q = w.bytes();
        if (q.length !== EC_POINT_BYTES[curve] || q[0] !== 4) return "bad ecdsa public point";
        if (type.startsWith("sk-") && !w.text().startsWith("ssh:")) return "bad security key application";
        break;
      }
      case "ssh-rsa": {
        const e = w.bytes();
        const n = w.bytes();
        if (mpintBits(e) < 2 || mpintBits(e) > 64) return "bad rsa exponent";
        const bits = mpintBits(n);
        if (bits < MIN_RSA_BITS) return `rsa keys need at least ${MIN_RSA_BITS} bits (this one has ${bits})`;
        if (bits > 16384) return "rsa key too large";
        break;
      }
    }
    if (!w.done()) return "trailing data after the key";
  } catch {
    return "the key data is truncated";
  }
  return null;
}

/** Validate a key type and base64 blob; returns the canonical blob. */
export function validateKeyParts(
  type: unknown,
  blob: unknown,
  field = "key",
): { type: KeyType; blob: string } {
  if (typeof type !== "string" || !(KEY_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(
      field,
      `key type must be one of ${KEY_TYPES.join(", ")} (got ${describe(type)})`,
    );
  }
  if (
    typeof blob !== "string" ||
    blob.length === 0 ||
    blob.length > MAX_BLOB_CHARS ||
    blob.length % 4 !== 0 ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)
  ) {
    throw new ValidationError(field, "key data must be canonical base64 (as in a .pub file)");
  }
  const raw = Buffer.from(blob, "base64");
  if (raw.toString("base64") !== blob) {
    throw new ValidationError(field, "key data must be canonical base64 (as in a .pub file)");
  }
  const problem = blobProblem(type as KeyType, raw);
  if (problem) throw new ValidationError(field, problem);
  return { type: type as KeyType, blob };
}

/**
 * Parse one public key as found in a .pub file: `<type> <base64> [comment]`. Options before the type (as in
 * an authorized_keys line) are refused. The comment is returned for use as the default name; it is never
 * copied into the file (the name is validated separately).
 */
export function parsePublicKey(
  text: unknown,
  field = "key",
): { type: KeyType; blob: string; comment: string | null } {
  if (typeof text !== "string") throw new ValidationError(field, "must be a public key line");
  const line = text.replace(/\r?\n$/, "");
  if (line.length > MAX_BLOB_CHARS + 200 || !/^[\x20-\x7e]+$/.test(line)) {
    throw new ValidationError(field, "must be one printable line: <type> <base64> [comment]");
  }
  const parts = line.trim().split(/ +/);
  if (parts.length < 2) throw new ValidationError(field, "must be <type> <base64> [comment]");
  const { type, blob } = validateKeyParts(parts[0], parts[1], field);
  const comment = parts.length > 2 ? parts.slice(2).join(" ") : null;
  return { type, blob, comment };
}

/** OpenSSH's SHA256 fingerprint: "SHA256:" + unpadded base64 of sha256(blob). */
export function fingerprint(blob: string): string {
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** An installed release's file: `<dir>/releases/<16 hex key>/<rest>` (components/release's layout). */
const RELEASE_FILE = /^(\/.+)\/releases\/[0-9a-f]{16}\/(.+)$/;

/**
 * The path an authorized_keys line should name for `file` (the forced command's script and its Node.js):
 * for a file of an installed release, the same file through the installation's `current` link
 * (`<dir>/current/<rest>`) when that link points at a release (`currentTarget`, its readlink; null when
 * there is none), so keys written now keep working once a newer release is installed and this one pruned.
 * Anything else (a checkout, dist/) is named as it is.
 */
export function stableReleasePath(file: string, currentTarget: (dir: string) => string | null): string {
  const m = RELEASE_FILE.exec(file);
  if (!m) return file;
  const [, dir, rest] = m;
  const target = currentTarget(`${dir}/current`);
  const release = /^(?:.*\/)?releases\/([0-9a-f]{16})\/?$/;
  return target !== null && release.test(target) ? `${dir}/current/${rest}` : file;
}

/** The forced command as it appears inside command="…": checked words joined by single spaces. */
export function renderForcedCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new ValidationError("forcedCommand", "must not be empty");
  for (const a of argv) {
    if (typeof a !== "string" || !COMMAND_WORD.test(a)) {
      throw new ValidationError("forcedCommand", `word ${describe(a)} must match ${COMMAND_WORD.source}`);
    }
  }
  if (!argv[0].startsWith("/"))
    throw new ValidationError("forcedCommand", "must start with an absolute path");
  return argv.join(" ");
}

/** One authorized_keys line. */
export function renderKeyLine(key: SshKey, uuid: string, forcedCommand: readonly string[]): string {
  const { type, blob } = validateKeyParts(key.type, key.blob);
  const name = validateKeyName(key.name);
  if (!/^[0-9a-f]{32}$/.test(uuid)) throw new ValidationError("uuid", "must be 32 lowercase hex characters");
  return `command="${renderForcedCommand(forcedCommand)}",${KEY_OPTIONS} ${type} ${blob} ${COMMENT_PREFIX}-${uuid}-${name}`;
}

/** The whole file: keys sorted by name, one line each; "" for no keys. */
export function renderAuthorizedKeys(
  keys: readonly SshKey[],
  uuid: string,
  forcedCommand: readonly string[],
): string {
  const sorted = [...keys].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.map((k) => renderKeyLine(k, uuid, forcedCommand) + "\n").join("");
}

export interface ParsedKeys {
  readonly keys: SshKey[];
  /** lines that are not ours (not rendered by renderKeyLine for this gear); dropped on the next write */
  readonly foreign: number;
}

/** Read back a file we wrote. Lines that do not parse as our own lines for this gear are counted, not kept. */
export function parseAuthorizedKeys(text: string, uuid: string): ParsedKeys {
  const keys: SshKey[] = [];
  let foreign = 0;
  const re = new RegExp(
    `^command="[^"\\\\]*",${KEY_OPTIONS} (\\S+) (\\S+) ${COMMENT_PREFIX}-${uuid}-(\\S+)$`,
  );
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = re.exec(line);
    if (!m) {
      foreign++;
      continue;
    }
    try {
      const { type, blob } = validateKeyParts(m[1], m[2]);
      keys.push({ type, blob, name: validateKeyName(m[3]) });
    } catch {
      foreign++;
    }
  }
  return { keys, foreign };
}

export interface KeyInfo {
  readonly name: string;
  readonly type: KeyType;
  readonly fingerprint: string;
}

export function keyInfo(k: SshKey): KeyInfo {
  return { name: k.name, type: k.type, fingerprint: fingerprint(k.blob) };
}
