// Making a self-signed certificate: the key pair with Node's crypto, the X.509 certificate with Debian's
// openssl (Node cannot issue one by itself), the key handed to openssl on its stdin only: never on argv,
// in the environment or in a file. The config file openssl reads holds no secret (the names and
// extensions); it lives in a 0700 temp directory and is removed afterwards.
import { runProgram } from "../../common/exec";
import { createPrivateKey, generateKeyPair, X509Certificate } from "crypto";
import { existsSync, promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { OPENSSL, opensslArgv, renderOpensslConfig } from "./render";
import type { CertificateSpec } from "./resolve";

/** The certificate and what is known about it once made. */
export interface GeneratedCertificate {
  /** PEM. */
  readonly certificate: string;
  /** PEM, PKCS#8 (a secret). */
  readonly privateKey: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** SHA-256 fingerprint, colon-separated hex (as `openssl x509 -fingerprint -sha256`). */
  readonly fingerprint: string;
  /** Serial number, hex. */
  readonly serialNumber: string;
}

function newKey(spec: CertificateSpec): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, privateKey: string) => (err ? reject(err) : resolve(privateKey));
    const publicKeyEncoding = { type: "spki", format: "pem" } as const;
    const privateKeyEncoding = { type: "pkcs8", format: "pem" } as const;
    if (spec.algorithm === "rsa-2048")
      generateKeyPair("rsa", { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding }, (e, _p, key) =>
        done(e, key),
      );
    else
      generateKeyPair("ec", { namedCurve: "P-256", publicKeyEncoding, privateKeyEncoding }, (e, _p, key) =>
        done(e, key),
      );
  });
}

/**
 * openssl reads the key by opening `/dev/stdin`, which fails on the socket Node gives a child as stdin
 * (ENXIO): `cat` relays it into a real pipe. The script is fixed; the argv travels as "$@", never as text.
 */
const PIPE_RELAY = 'cat | "$@"';

/** Runs argv with `input` on stdin (through a pipe: PIPE_RELAY); resolves with stdout, rejects with stderr. */
async function runWithStdin(argv: readonly string[], input: string): Promise<string> {
  const r = await runProgram(["/bin/sh", "-c", PIPE_RELAY, "sh", ...argv], {
    input,
    env: { PATH: "/usr/bin:/bin", LANG: "C" },
  });
  if (r.code === 0) return r.stdout;
  throw new Error(
    `${path.basename(argv[0]!)} exited ${r.code ?? r.signal}: ${r.stderr.trim().split("\n")[0]}`,
  );
}

/** Makes a new key and a self-signed certificate for `spec` (resolved: resolveSelfSignedCertificate). */
export async function generateSelfSignedCertificate(spec: CertificateSpec): Promise<GeneratedCertificate> {
  if (!existsSync(OPENSSL)) throw new Error(`${OPENSSL} is missing. Fix: apt-get install -y openssl`);
  const privateKey = await newKey(spec);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "geartrain-certificate-"));
  try {
    const config = path.join(dir, "openssl.cnf");
    await fs.writeFile(config, renderOpensslConfig(spec), { mode: 0o600 });
    const certificate = await runWithStdin(opensslArgv(spec, config), privateKey);
    const x509 = new X509Certificate(certificate);
    if (!x509.checkPrivateKey(createPrivateKey(privateKey)))
      throw new Error("openssl made a certificate for another key");
    return {
      certificate,
      privateKey,
      notBefore: new Date(x509.validFrom).toISOString(),
      notAfter: new Date(x509.validTo).toISOString(),
      fingerprint: x509.fingerprint256,
      serialNumber: x509.serialNumber.toLowerCase(),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
