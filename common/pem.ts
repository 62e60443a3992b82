// The one check of PEM text: a chain of X.509 certificates (a CA file, a server's certificate and its
// intermediates) and a private key. Pure (no I/O): the callers read files or take Pulumi inputs, and pass
// the text here; every problem is a ValidationError naming the caller's field, and, given `source` (a file's
// path), saying which file. A private key's text never appears in a message.
//
// Used by: the components' CA files (components/platform-resolve.ts renderCaFile), the bus clients' CA file
// (services/bus/ca-file.ts), the broker's listen.tls files (services/broker/config.ts), the platform
// certificate's facts and checks (components/certificate/inspect.ts), the Broker component's TLS args and
// the NodeHost frontend's TLS files (components/nodehost/render.ts).
import { createPrivateKey, X509Certificate, type KeyObject } from "crypto";
import { ValidationError } from "./errors";

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PRIVATE_KEY_BLOCK =
  /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END ([A-Z0-9]+ )*PRIVATE KEY-----/g;
const ANY_PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/;
const ANY_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;

export interface CertificateChain {
  /** The certificate blocks only, in their order, joined by newlines, ending in a newline. */
  readonly pem: string;
  /** Each block parsed; the first is the leaf of a server's chain. */
  readonly certificates: readonly X509Certificate[];
}

export interface PemSource {
  /** Where the text came from (a file's path), put before each message. */
  readonly source?: string;
}

function fail(field: string, opts: PemSource, problem: string): never {
  throw new ValidationError(field, opts.source !== undefined ? `${opts.source}: ${problem}` : problem);
}

/**
 * The PEM certificates of `text`: at least one, each a valid X.509 certificate, and no private key beside
 * them (a certificate file is public: a key in it would be published with it). Text around the blocks is
 * dropped. Throws a ValidationError naming `field`.
 */
export function parseCertificateChain(field: string, text: unknown, opts: PemSource = {}): CertificateChain {
  if (typeof text !== "string") fail(field, opts, "must be PEM certificates (a string)");
  if (ANY_PRIVATE_KEY.test(text)) fail(field, opts, "holds a private key: give the certificate(s) only");
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) fail(field, opts, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  const certificates = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      return fail(
        field,
        opts,
        `certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate (${(e as Error).message})`,
      );
    }
  });
  return { pem: `${blocks.join("\n")}\n`, certificates };
}

export interface PrivateKey {
  /** The key's one PEM block, ending in a newline. */
  readonly pem: string;
  readonly key: KeyObject;
}

/**
 * The one PEM private key of `text` (PKCS#8, or the traditional RSA/EC forms), unencrypted and readable.
 * Throws a ValidationError naming `field`, whose message never quotes the text.
 */
export function parsePrivateKey(field: string, text: unknown, opts: PemSource = {}): PrivateKey {
  if (typeof text !== "string") fail(field, opts, "must be a PEM private key (a string)");
  const blocks = text.match(PRIVATE_KEY_BLOCK) ?? [];
  if (blocks.length === 0) {
    const what = ANY_CERTIFICATE.test(text)
      ? "holds a certificate, not a private key"
      : "holds no PEM private key";
    fail(field, opts, `${what} (-----BEGIN PRIVATE KEY-----)`);
  }
  if (blocks.length > 1) fail(field, opts, `holds ${blocks.length} private keys: give one`);
  if (/ENCRYPTED/.test(blocks[0]!)) fail(field, opts, "is encrypted: give the key without a passphrase");
  let key: KeyObject;
  try {
    key = createPrivateKey(blocks[0]!);
  } catch {
    return fail(field, opts, "is not a readable PEM private key");
  }
  return { pem: `${blocks[0]}\n`, key };
}

/** Whether `key` is the private key of `certificate`. */
export function keyMatchesCertificate(certificate: X509Certificate, key: KeyObject): boolean {
  return certificate.checkPrivateKey(key);
}

/** The two fields of a server's certificate and key, as the caller names them in its errors. */
export interface KeyPairFields {
  readonly certificate: string;
  readonly key: string;
}

/**
 * The one PEM private key of `keyText`, which must be the key of the leaf of `certificateText` (a server
 * would refuse the pair only when it loads them, after the files were written). Errors name `fields.key` (or
 * `fields.certificate` for a bad chain) and never quote the key.
 */
export function parseKeyPair(fields: KeyPairFields, certificateText: unknown, keyText: unknown): PrivateKey {
  const key = parsePrivateKey(fields.key, keyText);
  const leaf = parseCertificateChain(fields.certificate, certificateText).certificates[0]!;
  if (!keyMatchesCertificate(leaf, key.key))
    throw new ValidationError(fields.key, `is not the key of ${fields.certificate}`);
  return key;
}
