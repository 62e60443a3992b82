// The openssl request config a SelfSignedCertificate is made with, and openssl's argv. Pure and
// deterministic: the same spec gives the same bytes. The names in it are validated (resolve.ts), so they
// hold nothing openssl's config parser would read as syntax.
import type { CertificateSpec } from "./resolve";

export const OPENSSL = "/usr/bin/openssl";

/**
 * `[req]` with the subject and the v3 extensions of a TLS server certificate that is its own trust anchor:
 * not a CA, digitalSignature (and keyEncipherment for RSA), serverAuth, the DNS names.
 */
export function renderOpensslConfig(spec: CertificateSpec): string {
  const usage = spec.algorithm === "rsa-2048" ? "digitalSignature, keyEncipherment" : "digitalSignature";
  return [
    "# Geartrain SelfSignedCertificate (components/certificate): openssl req -x509 config",
    "[req]",
    "distinguished_name = subject",
    "x509_extensions = server",
    "prompt = no",
    "utf8 = yes",
    "",
    "[subject]",
    `CN = ${spec.commonName}`,
    "",
    "[server]",
    "basicConstraints = critical, CA:FALSE",
    `keyUsage = critical, ${usage}`,
    "extendedKeyUsage = serverAuth",
    "subjectKeyIdentifier = hash",
    `subjectAltName = ${spec.dnsNames.map((n) => `DNS:${n}`).join(", ")}`,
    "",
  ].join("\n");
}

/**
 * `openssl req -x509`: the key on stdin (never on argv or in a file), the certificate on stdout, the config
 * (nothing secret in it) from `configFile`.
 */
export function opensslArgv(spec: CertificateSpec, configFile: string): string[] {
  return [
    OPENSSL,
    "req",
    "-new",
    "-x509",
    "-config",
    configFile,
    "-key",
    "/dev/stdin",
    "-sha256",
    "-days",
    String(spec.validityDays),
    "-outform",
    "PEM",
  ];
}
