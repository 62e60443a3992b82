// SelfSignedCertificate args (each bad field named, defaults), the openssl config (snapshot, same bytes
// twice) and argv (the key only ever on stdin), the replace rule.
import {
  changedCertificateInputs,
  opensslArgv,
  renderOpensslConfig,
  resolveSelfSignedCertificate,
} from "../../../../components/certificate";

test("defaults: *.<domain> and <domain>, CN *.<domain>, 365 days, ECDSA P-256", () => {
  expect(resolveSelfSignedCertificate({ domain: "apps.dev.geartrain.test" })).toEqual({
    domain: "apps.dev.geartrain.test",
    commonName: "*.apps.dev.geartrain.test",
    dnsNames: ["*.apps.dev.geartrain.test", "apps.dev.geartrain.test"],
    validityDays: 365,
    algorithm: "ecdsa-p256",
  });
});

test.each<[string, Record<string, unknown>, RegExp]>([
  ["no domain", {}, /^invalid domain: must be a lower-case DNS name/],
  ["domain one label", { domain: "localhost" }, /^invalid domain: must be a lower-case DNS name/],
  ["domain upper case", { domain: "Apps.Example.com" }, /^invalid domain:/],
  ["domain wildcard", { domain: "*.example.com" }, /^invalid domain:/],
  ["domain with a newline (config injection)", { domain: "a.b\n[x]" }, /^invalid domain:/],
  ["dnsNames empty", { domain: "a.example", dnsNames: [] }, /^invalid dnsNames: must be a list of 1\.\.100/],
  [
    "dnsNames not a list",
    { domain: "a.example", dnsNames: "a.example" },
    /^invalid dnsNames: must be a list/,
  ],
  [
    "dnsNames entry with a comma (extension injection)",
    { domain: "a.example", dnsNames: ["a.example", "b.example, IP:1.2.3.4"] },
    /^invalid dnsNames\[1\]: must be a lower-case DNS name/,
  ],
  [
    "dnsNames double wildcard",
    { domain: "a.example", dnsNames: ["*.*.a.example"] },
    /^invalid dnsNames\[0\]/,
  ],
  [
    "dnsNames duplicate",
    { domain: "a.example", dnsNames: ["a.example", "a.example"] },
    /^invalid dnsNames: "a.example" is listed twice/,
  ],
  ["commonName with =", { domain: "a.example", commonName: "x.a.example/O=evil" }, /^invalid commonName:/],
  [
    "validityDays 0",
    { domain: "a.example", validityDays: 0 },
    /^invalid validityDays: must be an integer in 1\.\.10000/,
  ],
  ["validityDays fraction", { domain: "a.example", validityDays: 1.5 }, /^invalid validityDays:/],
  ["validityDays string", { domain: "a.example", validityDays: "365" }, /^invalid validityDays:/],
  ["validityDays huge", { domain: "a.example", validityDays: 100000 }, /^invalid validityDays:/],
  [
    "algorithm",
    { domain: "a.example", algorithm: "dsa" },
    /^invalid algorithm: must be ecdsa-p256 or rsa-2048/,
  ],
])("refuses %s", (_n, args, msg) => {
  expect(() => resolveSelfSignedCertificate(args as never)).toThrow(msg);
});

test("the field of each error is the arg's name", () => {
  const fieldOf = (args: Record<string, unknown>) => {
    try {
      resolveSelfSignedCertificate(args as never);
    } catch (e) {
      return (e as { field?: string }).field;
    }
    return null;
  };
  expect(fieldOf({})).toBe("domain");
  expect(fieldOf({ domain: "a.example", dnsNames: ["a.example", "b c"] })).toBe("dnsNames[1]");
  expect(fieldOf({ domain: "a.example", commonName: "" })).toBe("commonName");
  expect(fieldOf({ domain: "a.example", validityDays: -1 })).toBe("validityDays");
  expect(fieldOf({ domain: "a.example", algorithm: "x" })).toBe("algorithm");
});

const spec = resolveSelfSignedCertificate({ domain: "apps.dev.geartrain.test" });

test("openssl config (snapshot): not a CA, server auth, the names; same bytes twice", () => {
  const text = renderOpensslConfig(spec);
  expect(text).toMatchSnapshot();
  expect(renderOpensslConfig(spec)).toBe(text);
  expect(text).toMatch(/^basicConstraints = critical, CA:FALSE$/m);
  expect(text).toMatch(/^keyUsage = critical, digitalSignature$/m);
  expect(renderOpensslConfig({ ...spec, algorithm: "rsa-2048" })).toMatch(
    /^keyUsage = critical, digitalSignature, keyEncipherment$/m,
  );
  expect(text).toMatch(
    /^subjectAltName = DNS:\*\.apps\.dev\.geartrain\.test, DNS:apps\.dev\.geartrain\.test$/m,
  );
});

test("argv: the key is read from stdin, never named on the command line", () => {
  const argv = opensslArgv(spec, "/tmp/x/openssl.cnf");
  expect(argv).toEqual([
    "/usr/bin/openssl",
    "req",
    "-new",
    "-x509",
    "-config",
    "/tmp/x/openssl.cnf",
    "-key",
    "/dev/stdin",
    "-sha256",
    "-days",
    "365",
    "-outform",
    "PEM",
  ]);
});

test("replaced only when an input changes", () => {
  expect(changedCertificateInputs(spec, { ...spec })).toEqual([]);
  expect(changedCertificateInputs(spec, { ...spec, validityDays: 30 })).toEqual(["validityDays"]);
  expect(changedCertificateInputs(spec, { ...spec, dnsNames: [...spec.dnsNames].reverse() })).toEqual([
    "dnsNames",
  ]);
  const other = resolveSelfSignedCertificate({ domain: "apps.prod.example.com", algorithm: "rsa-2048" });
  expect(changedCertificateInputs(spec, other)).toEqual(["domain", "commonName", "dnsNames", "algorithm"]);
});
