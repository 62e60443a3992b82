// common/pem.ts: the one PEM check (certificate chains and private keys) behind the CA files, the broker's
// listen.tls files, the platform certificate's checks, the Broker component's TLS args and NodeHost's frontend.tls. Certificates and
// keys are made with openssl in a temporary directory.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ValidationError } from "../../../common/errors";
import {
  keyMatchesCertificate,
  parseCertificateChain,
  parseKeyPair,
  parsePrivateKey,
} from "../../../common/pem";

let dir: string;
const made = (name: string, extra: string[] = []) => {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-subj", `/CN=${name}.test`, "-keyout", key, "-out", cert, ...extra,
  ], { stdio: "pipe" }); // prettier-ignore
  return { certificate: fs.readFileSync(cert, "utf8"), privateKey: fs.readFileSync(key, "utf8") };
};
let a: { certificate: string; privateKey: string };
let b: { certificate: string; privateKey: string };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-unit-pem-"));
  a = made("a");
  b = made("b");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function problem(f: () => unknown): { field: string; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return { field: (e as ValidationError).field, message: (e as Error).message };
  }
  throw new Error("expected a ValidationError");
}

describe("parseCertificateChain", () => {
  it("gives the certificate blocks only, in order, each parsed, ending in a newline", () => {
    const chain = parseCertificateChain(
      "tls.certificate",
      `junk\n${a.certificate.trimEnd()}\nmore\n${b.certificate}`,
    );
    expect(chain.pem).toBe(`${a.certificate.trimEnd()}\n${b.certificate.trimEnd()}\n`);
    expect(chain.certificates.map((c) => c.subject)).toEqual(["CN=a.test", "CN=b.test"]);
  });

  it.each([
    ["not a string", undefined, "must be PEM certificates (a string)"],
    ["empty", "", "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"],
    ["not PEM", "hello\n", "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"],
    ["a key alone", "KEY", "holds a private key: give the certificate(s) only"],
    ["a key beside the certificate", "CERT+KEY", "holds a private key: give the certificate(s) only"],
    ["a broken block", "CERT+BROKEN", "certificate 2 of 2 is not a valid X.509 certificate ("],
  ])("%s: refused naming the field", (_label, input, message) => {
    const text =
      input === "KEY"
        ? a.privateKey
        : input === "CERT+KEY"
          ? `${a.certificate}${a.privateKey}`
          : input === "CERT+BROKEN"
            ? `${a.certificate}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`
            : input;
    const e = problem(() => parseCertificateChain("bus.tls.ca", text));
    expect(e.field).toBe("bus.tls.ca");
    expect(e.message.startsWith(`invalid bus.tls.ca: ${message}`)).toBe(true);
    // the key's text is never quoted
    expect(e.message).not.toContain(a.privateKey.split("\n")[1]);
  });

  it("names the source before the problem", () => {
    expect(problem(() => parseCertificateChain("f", "x", { source: "/etc/g/ca.crt" })).message).toBe(
      "invalid f: /etc/g/ca.crt: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
    );
  });
});

describe("parsePrivateKey", () => {
  it("reads a PKCS#8 key and a traditional EC key, giving the one block", () => {
    const k = parsePrivateKey("tls.privateKey", `text before\n${a.privateKey.trimEnd()}`);
    expect(k.pem).toBe(`${a.privateKey.trimEnd()}\n`);
    expect(k.key.asymmetricKeyType).toBe("ec");
    const traditional = execFileSync("openssl", ["ec", "-in", path.join(dir, "a.key")], {
      stdio: ["ignore", "pipe", "pipe"],
    }).toString();
    expect(traditional).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(parsePrivateKey("k", traditional).key.asymmetricKeyType).toBe("ec");
  });

  it.each([
    ["not a string", 42, "must be a PEM private key (a string)"],
    ["empty", "", "holds no PEM private key (-----BEGIN PRIVATE KEY-----)"],
    ["not PEM", "hello", "holds no PEM private key (-----BEGIN PRIVATE KEY-----)"],
    ["a certificate", "CERT", "holds a certificate, not a private key (-----BEGIN PRIVATE KEY-----)"],
    ["two keys", "TWO", "holds 2 private keys: give one"],
    ["an encrypted key", "ENCRYPTED", "is encrypted: give the key without a passphrase"],
    ["a broken key", "BROKEN", "is not a readable PEM private key"],
  ])("%s: refused naming the field, never quoting the text", (_label, input, message) => {
    const text =
      input === "CERT"
        ? a.certificate
        : input === "TWO"
          ? `${a.privateKey}${b.privateKey}`
          : input === "ENCRYPTED"
            ? execFileSync(
                "openssl",
                ["pkcs8", "-topk8", "-in", path.join(dir, "a.key"), "-passout", "pass:pw"],
                {
                  stdio: ["ignore", "pipe", "pipe"],
                },
              ).toString()
            : input === "BROKEN"
              ? "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n"
              : input;
    const e = problem(() => parsePrivateKey("tls.privateKey", text, { source: "/k" }));
    expect(e.field).toBe("tls.privateKey");
    expect(e.message).toBe(`invalid tls.privateKey: /k: ${message}`);
    expect(e.message).not.toContain("c2VjcmV0LWJ5dGVz");
  });
});

it("keyMatchesCertificate: its own key only", () => {
  const cert = parseCertificateChain("c", a.certificate).certificates[0]!;
  expect(keyMatchesCertificate(cert, parsePrivateKey("k", a.privateKey).key)).toBe(true);
  expect(keyMatchesCertificate(cert, parsePrivateKey("k", b.privateKey).key)).toBe(false);
});

describe("parseKeyPair", () => {
  const fields = { certificate: "x.certificate", key: "x.key" };
  it("gives the key of the chain's leaf", () => {
    expect(parseKeyPair(fields, `${a.certificate}${b.certificate}`, a.privateKey).pem).toBe(
      `${a.privateKey.trimEnd()}\n`,
    );
  });

  it("refuses another certificate's key, naming the key's field and not quoting it", () => {
    const p = problem(() => parseKeyPair(fields, a.certificate, b.privateKey));
    expect(p).toEqual({ field: "x.key", message: "invalid x.key: is not the key of x.certificate" });
  });

  it("names the certificate's field for a bad chain, the key's for a bad key", () => {
    expect(problem(() => parseKeyPair(fields, "CERT", a.privateKey)).field).toBe("x.certificate");
    expect(problem(() => parseKeyPair(fields, a.certificate, a.certificate)).field).toBe("x.key");
  });
});
