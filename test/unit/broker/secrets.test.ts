// Ids, scrypt password hashes and token hashes (services/broker/store/secrets.ts).

import {
  hashPassword,
  newId,
  newToken,
  tokenHash,
  verifyPassword,
} from "../../../services/broker/store/secrets";

test("ids are 32 lowercase hex digits and differ", () => {
  const ids = Array.from({ length: 100 }, newId);
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  expect(new Set(ids).size).toBe(100);
});

test("a password hash is salted scrypt with its parameters, and verifies only its password", async () => {
  const a = await hashPassword("s3cret");
  const b = await hashPassword("s3cret");
  expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  expect(a).not.toBe(b);
  expect(a).not.toContain("s3cret");
  expect(await verifyPassword("s3cret", a)).toBe(true);
  expect(await verifyPassword("s3cret!", a)).toBe(false);
  expect(await verifyPassword("s3cret", "plain")).toBe(false);
  expect(await verifyPassword("s3cret", "scrypt$99999999$8$1$AAAA$AAAA")).toBe(false);
});

test("tokens are 256-bit base64url, stored as their sha256", () => {
  const t = newToken();
  expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(tokenHash(t)).toMatch(/^[0-9a-f]{64}$/);
  expect(tokenHash(t)).toBe(tokenHash(t));
  expect(tokenHash(t)).not.toBe(tokenHash(newToken()));
});
