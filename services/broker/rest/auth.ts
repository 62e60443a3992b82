// Credentials on the wire (shared/reference/openshift-rest-api.md §3.2): Basic (login:password) after a
// `WWW-Authenticate: Basic realm=...` challenge, or a bearer token sent up front. Pure parsing; checking
// the credentials is the application service's (scrypt for passwords, hashed tokens).

export type Credentials =
  | { readonly kind: "basic"; readonly login: string; readonly password: string }
  | { readonly kind: "bearer"; readonly token: string }
  | { readonly kind: "none" }
  | { readonly kind: "malformed" };

export function parseAuthorization(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === "") return { kind: "none" };
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) return { kind: "malformed" };
  const scheme = m[1].toLowerCase();
  if (scheme === "bearer") return { kind: "bearer", token: m[2] };
  if (scheme !== "basic") return { kind: "malformed" };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(m[2])) return { kind: "malformed" };
  const decoded = Buffer.from(m[2], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return { kind: "malformed" };
  return { kind: "basic", login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function challenge(realm: string): string {
  return `Basic realm="${realm.replace(/["\\]/g, "")}"`;
}

/**
 * What a token's scope allows (origin's scopes): session = everything the user may do; read = GET only;
 * userinfo = reading the user only.
 */
export function scopeAllows(scopes: readonly string[], method: string, path: string): boolean {
  if (scopes.includes("session")) return true;
  if (scopes.includes("read") && method === "GET") return true;
  if (scopes.includes("userinfo") && method === "GET" && /\/broker\/rest\/user\/?$/.test(path)) return true;
  return false;
}
