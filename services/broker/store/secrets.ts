// Ids, password hashes and bearer tokens. Passwords are hashed with crypto.scrypt (salted, parameters kept
// in the hash so they can be raised later); tokens are 32 random bytes shown once and stored as sha256.

import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "crypto";

/** A new id: 32 lowercase hex digits (16 random bytes). */
export function newId(): string {
  return randomBytes(16).toString("hex");
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$<salt>$<hash>` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), key.toString("base64url")].join(
    "$",
  );
}

/** Whether password matches the hash (constant-time compare); false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return false;
  const salt = Buffer.from(parts[4], "base64url");
  const want = Buffer.from(parts[5], "base64url");
  if (want.length < 16) return false;
  const got = await scryptAsync(password, salt, want.length, { N, r, p, maxmem: 256 * N * r + (1 << 20) });
  return timingSafeEqual(got, want);
}

/** A new bearer token (43 base64url characters). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
