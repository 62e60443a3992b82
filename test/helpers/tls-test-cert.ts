// Test certificates made at run time with Debian's openssl (argument arrays, never a shell line): a CA, server
// certificates it signs (DNS and IP subject alternative names), and a PKCS12 key store for ActiveMQ's
// `<sslContext>` (its password handed to openssl in the environment, never on argv). Everything lives in a
// 0700 directory under os.tmpdir() that cleanup() removes; no key is ever committed.

import { execFile } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";

const execFileP = promisify(execFile);
const OPENSSL = "/usr/bin/openssl";

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** the certificate, PEM */
  readonly pem: string;
}

export interface TestPki {
  readonly dir: string;
  /** Make a CA (self-signed, CA:TRUE). */
  ca(name: string): Promise<TestCertificate>;
  /** Make a server certificate signed by `ca`, for these names (at least one). */
  server(
    ca: TestCertificate,
    name: string,
    alt: { dns?: readonly string[]; ip?: readonly string[] },
  ): Promise<TestCertificate>;
  /** A certificate and key made elsewhere (generateSelfSignedCertificate), as files here. */
  fromPem(name: string, certificate: string, privateKey: string): TestCertificate;
  /** A PKCS12 key store of `cert` (its key, and the chain up to `ca` when given) at `out`. */
  keyStore(cert: TestCertificate, out: string, password: string, ca?: TestCertificate): Promise<void>;
  cleanup(): void;
}

async function openssl(args: readonly string[], env: Record<string, string> = {}): Promise<void> {
  try {
    await execFileP(OPENSSL, [...args], { env: { PATH: "/usr/bin:/bin", LANG: "C", ...env } });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.trim() || err.message}`);
  }
}

const NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

function requireOpenssl(): void {
  if (!existsSync(OPENSSL))
    throw new Error(`${OPENSSL} is missing. Fix: apt-get update && apt-get install -y openssl`);
}

/** A PKCS12 key store of `cert` (its key, and the chain up to `ca` when given) at `out`. */
export async function makeKeyStore(
  cert: TestCertificate,
  out: string,
  password: string,
  ca?: TestCertificate,
): Promise<void> {
  requireOpenssl();
  await openssl(
    [
      "pkcs12",
      "-export",
      "-name",
      "geartrain",
      "-in",
      cert.certFile,
      "-inkey",
      cert.keyFile,
      ...(ca ? ["-certfile", ca.certFile] : []),
      "-passout",
      "env:GT_KEYSTORE_PASSWORD",
      "-out",
      out,
    ],
    { GT_KEYSTORE_PASSWORD: password },
  );
}

/** A directory for test certificates. Fails naming the fix when openssl is missing. */
export function testPki(label = "tls"): TestPki {
  requireOpenssl();
  const dir = mkdtempSync(path.join(os.tmpdir(), `gt-pki-${label}-`)); // mkdtemp: 0700
  const file = (name: string, ext: string) => {
    if (!NAME.test(name)) throw new Error(`bad test certificate name ${JSON.stringify(name)}`);
    return path.join(dir, `${name}.${ext}`);
  };
  const newKey = (keyFile: string) =>
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile]);
  return {
    dir,
    async ca(name) {
      const keyFile = file(name, "key");
      const certFile = file(name, "crt");
      await newKey(keyFile);
      await openssl([
        "req",
        "-x509",
        "-new",
        "-key",
        keyFile,
        "-out",
        certFile,
        "-days",
        "2",
        "-subj",
        `/CN=Geartrain test CA ${name}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ]);
      return { certFile, keyFile, pem: readFileSync(certFile, "utf8") };
    },
    async server(ca, name, alt) {
      const sans = [...(alt.dns ?? []).map((d) => `DNS:${d}`), ...(alt.ip ?? []).map((i) => `IP:${i}`)];
      if (sans.length === 0) throw new Error("a server certificate needs at least one name");
      const keyFile = file(name, "key");
      const csr = file(name, "csr");
      const ext = file(name, "ext");
      const certFile = file(name, "crt");
      await newKey(keyFile);
      await openssl(["req", "-new", "-key", keyFile, "-out", csr, "-subj", `/CN=${alt.dns?.[0] ?? name}`]);
      writeFileSync(
        ext,
        [
          "basicConstraints=critical,CA:FALSE",
          "keyUsage=critical,digitalSignature",
          "extendedKeyUsage=serverAuth",
          `subjectAltName=${sans.join(",")}`,
          "",
        ].join("\n"),
        { mode: 0o600 },
      );
      await openssl([
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca.certFile,
        "-CAkey",
        ca.keyFile,
        "-set_serial",
        `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`,
        "-days",
        "2",
        "-extfile",
        ext,
        "-out",
        certFile,
      ]);
      return { certFile, keyFile, pem: readFileSync(certFile, "utf8") };
    },
    fromPem(name, certificate, privateKey) {
      const certFile = file(name, "crt");
      const keyFile = file(name, "key");
      writeFileSync(certFile, certificate, { mode: 0o600 });
      writeFileSync(keyFile, privateKey, { mode: 0o600 });
      return { certFile, keyFile, pem: certificate };
    },
    keyStore: makeKeyStore,
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
