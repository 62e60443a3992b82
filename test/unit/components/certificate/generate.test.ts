// Making the certificate for real with Debian's openssl (no daemon; a second or so): what the provider's
// create returns, update keeping it, diff replacing it on an input change; describeCertificate and
// certificateProblems on made and on wrong certificates.
import { createPrivateKey, createPublicKey, X509Certificate } from "crypto";
import {
  certificateProblems,
  describeCertificate,
  resolveSelfSignedCertificate,
} from "../../../../components/certificate";
import { generatedCertificateProvider } from "../../../../components/certificate/provider";
import type { GeneratedCertificateOutputs } from "../../../../components/certificate/provider";

jest.setTimeout(60_000);

const spec = resolveSelfSignedCertificate({ domain: "apps.dev.geartrain.test", validityDays: 30 });
let made: GeneratedCertificateOutputs;

beforeAll(async () => {
  made = (await generatedCertificateProvider.create!(spec)).outs as GeneratedCertificateOutputs;
});

test("create: a self-signed EC P-256 certificate for *.<domain> and <domain>, with its key", () => {
  const x = new X509Certificate(made.certificate);
  expect(x.subject).toBe("CN=*.apps.dev.geartrain.test");
  expect(x.issuer).toBe(x.subject);
  expect(x.subjectAltName).toBe("DNS:*.apps.dev.geartrain.test, DNS:apps.dev.geartrain.test");
  expect(x.ca).toBe(false);
  expect(x.verify(x.publicKey)).toBe(true);
  expect(x.checkPrivateKey(createPrivateKey(made.privateKey))).toBe(true);
  expect(x.checkHost("guestbook-dev.apps.dev.geartrain.test")).toBe("*.apps.dev.geartrain.test");
  expect(x.checkHost("apps.dev.geartrain.test")).toBe("apps.dev.geartrain.test");
  expect(x.checkHost("a.b.apps.dev.geartrain.test")).toBeUndefined(); // one label only
  expect(x.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" });
  expect(made.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  const days = (Date.parse(made.notAfter) - Date.parse(made.notBefore)) / 86_400_000;
  expect(days).toBe(30);
  expect(Math.abs(Date.parse(made.notBefore) - Date.now())).toBeLessThan(120_000);
  expect(made.fingerprint).toBe(x.fingerprint256);
  expect(made.serialNumber).toBe(x.serialNumber.toLowerCase());
  // the outputs carry the inputs (the diff compares them) and the key, nothing else
  expect(Object.keys(made).sort()).toEqual(
    [
      "algorithm",
      "certificate",
      "commonName",
      "dnsNames",
      "domain",
      "fingerprint",
      "notAfter",
      "notBefore",
      "privateKey",
      "serialNumber",
      "validityDays",
    ].sort(),
  );
});

test("rsa-2048", async () => {
  const rsa = (
    await generatedCertificateProvider.create!(
      resolveSelfSignedCertificate({ domain: "a.example", algorithm: "rsa-2048", validityDays: 1 }),
    )
  ).outs as GeneratedCertificateOutputs;
  const x = new X509Certificate(rsa.certificate);
  expect(x.publicKey.asymmetricKeyType).toBe("rsa");
  expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  expect(x.checkPrivateKey(createPrivateKey(rsa.privateKey))).toBe(true);
});

test("each create is a new key and serial", async () => {
  const again = (await generatedCertificateProvider.create!(spec)).outs as GeneratedCertificateOutputs;
  expect(again.privateKey).not.toBe(made.privateKey);
  expect(again.serialNumber).not.toBe(made.serialNumber);
  expect(createPublicKey(again.privateKey).export({ type: "spki", format: "pem" })).not.toBe(
    createPublicKey(made.privateKey).export({ type: "spki", format: "pem" }),
  );
});

test("update keeps the certificate; diff replaces only on an input change", async () => {
  expect((await generatedCertificateProvider.update!("id", made, spec)).outs).toBe(made);
  expect(await generatedCertificateProvider.diff!("id", made, spec)).toMatchObject({
    changes: false,
    replaces: [],
  });
  expect(await generatedCertificateProvider.diff!("id", made, { ...spec, validityDays: 90 })).toMatchObject({
    changes: true,
    replaces: ["validityDays"],
  });
});

test("describeCertificate", () => {
  expect(describeCertificate(made.certificate)).toEqual({
    subject: "CN=*.apps.dev.geartrain.test",
    issuer: "CN=*.apps.dev.geartrain.test",
    dnsNames: ["*.apps.dev.geartrain.test", "apps.dev.geartrain.test"],
    notBefore: made.notBefore,
    notAfter: made.notAfter,
    fingerprint: made.fingerprint,
    selfSigned: true,
  });
  // a chain: the leaf is the first one
  expect(describeCertificate(`${made.certificate}\n${made.certificate}`).fingerprint).toBe(made.fingerprint);
  expect(() => describeCertificate("hello")).toThrow(/^invalid certificate: holds no PEM certificate/);
});

test("certificateProblems: a provided certificate must cover the domain, be valid now and match its key", async () => {
  const domain = "apps.dev.geartrain.test";
  expect(certificateProblems(made.certificate, { domain, privateKey: made.privateKey })).toEqual([]);
  const messages = (pem: string, o: Parameters<typeof certificateProblems>[1]) =>
    certificateProblems(pem, o).map((e) => `${e.field}| ${e.message}`);
  expect(messages(made.certificate, { domain: "apps.prod.example.com" })).toEqual([
    expect.stringMatching(/^certificate| invalid certificate: does not cover \*\.apps\.prod\.example\.com/),
    "certificate| invalid certificate: does not cover apps.prod.example.com itself",
  ]);
  expect(messages(made.certificate, { domain, now: new Date(Date.parse(made.notAfter) + 1000) })).toEqual([
    `certificate| invalid certificate: expired on ${made.notAfter}`,
  ]);
  expect(messages(made.certificate, { domain, now: new Date(Date.parse(made.notBefore) - 1000) })).toEqual([
    `certificate| invalid certificate: is not valid before ${made.notBefore}`,
  ]);
  const other = (await generatedCertificateProvider.create!(spec)).outs as GeneratedCertificateOutputs;
  expect(messages(made.certificate, { domain, privateKey: other.privateKey })).toEqual([
    "privateKey| invalid privateKey: is not the key of the certificate",
  ]);
  expect(messages(made.certificate, { domain, privateKey: "not a key" })).toEqual([
    "privateKey| invalid privateKey: holds no PEM private key (-----BEGIN PRIVATE KEY-----)",
  ]);
  expect(messages(made.certificate, { domain, privateKey: made.certificate })).toEqual([
    "privateKey| invalid privateKey: holds a certificate, not a private key (-----BEGIN PRIVATE KEY-----)",
  ]);
  expect(messages("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", { domain })).toEqual([
    expect.stringMatching(
      /^certificate\| invalid certificate: certificate 1 of 1 is not a valid X\.509 certificate/,
    ),
  ]);
});
