// Host key pinning: parsing `connection.hostKey` and comparing it with the key the server presents.

import { createHash } from "crypto";
import { RefusedError } from "../../common/errors";

export interface PinnedHostKey {
  /** Key type as written in the key blob, e.g. "ssh-ed25519". */
  type: string;
  /** The raw public key blob (what sshd sends during key exchange). */
  blob: Buffer;
}

const KEY_TYPE_PATTERN = /^(ssh-|ecdsa-|sk-|rsa-)/;

/** Reads the length-prefixed key type at the start of an SSH public key blob. */
function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) {
    return undefined;
  }
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) {
    return undefined;
  }
  return blob.subarray(4, 4 + len).toString("latin1");
}

/**
 * Parses a host key as written in `authorized_keys` ("ssh-ed25519 AAAA... comment"), in
 * `known_hosts` ("host ssh-ed25519 AAAA...") or as the bare base64 blob. Throws with a message that
 * says what is accepted.
 */
export function parseHostKey(text: string): PinnedHostKey {
  const tokens = text
    .trim()
    .split(/\s+/)
    .filter((t) => t !== "");
  let declared: string | undefined;
  let b64: string | undefined;
  const typeAt = tokens.findIndex((t) => KEY_TYPE_PATTERN.test(t));
  if (typeAt >= 0 && typeAt + 1 < tokens.length) {
    declared = tokens[typeAt];
    b64 = tokens[typeAt + 1];
  } else if (tokens.length === 1) {
    b64 = tokens[0];
  }
  const usage =
    'connection.hostKey must be a public key such as "ssh-ed25519 AAAAC3Nza... comment" ' +
    "(the contents of /etc/ssh/ssh_host_ed25519_key.pub on the host)";
  if (b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new Error(usage);
  }
  const blob = Buffer.from(b64, "base64");
  const type = blobKeyType(blob);
  if (type === undefined) {
    throw new Error(`${usage}; the base64 part is not an SSH public key`);
  }
  if (declared !== undefined && declared !== type) {
    throw new Error(`connection.hostKey says ${declared} but the key data is ${type}`);
  }
  return { type, blob };
}

/** OpenSSH-style fingerprint: "SHA256:" + unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** Describes a key blob for messages: "ssh-ed25519 SHA256:...". */
export function describeKey(blob: Buffer): string {
  return `${blobKeyType(blob) ?? "unknown-type"} ${fingerprint(blob)}`;
}

/**
 * Host key algorithms to offer so that a server with several host keys presents the pinned one.
 * Undefined means "leave the client's default list".
 */
export function hostKeyAlgorithms(type: string): string[] | undefined {
  switch (type) {
    case "ssh-rsa":
      return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
    case "ssh-ed25519":
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521":
      return [type];
    default:
      return undefined;
  }
}

/** The server presented another key than the pinned one: refused, never retried. */
export class HostKeyMismatchError extends RefusedError {
  constructor(
    readonly target: string,
    expected: PinnedHostKey,
    presented: Buffer,
  ) {
    super(
      `host key verification failed for ${target}: expected ${describeKey(expected.blob)} (connection.hostKey), ` +
        `but the server presented ${describeKey(presented)}. If the host was rebuilt on purpose, update ` +
        `connection.hostKey; otherwise something is intercepting the connection.`,
    );
  }
}

/** Compares the presented key blob with the pinned one; constant-time not needed (public data). */
export function hostKeyMatches(pinned: PinnedHostKey, presented: Buffer): boolean {
  return pinned.blob.equals(presented);
}
