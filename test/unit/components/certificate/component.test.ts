// SelfSignedCertificate under the mocked engine: one child `<name>-keypair` parented to it, the private key
// an additional secret output of it and a secret output of the component, in no resource's plain inputs
// (the mock returns a real certificate and key, made once here), the certificate plain; bad args fail
// naming the field before any child is declared.
import * as pulumi from "@pulumi/pulumi";
import { recordResources, valueOf } from "../../../helpers/pulumi-mocks";
import type { GeneratedCertificate } from "../../../../components/certificate/generate";

let made: GeneratedCertificate;
const resources = recordResources((r) => (r.type.endsWith("GeneratedCertificate") ? { ...made } : {}));

import type * as Certificate from "../../../../components/certificate";

jest.setTimeout(60_000);

describe("SelfSignedCertificate under the mocked engine", () => {
  let cert: typeof Certificate;
  beforeAll(async () => {
    cert = await import("../../../../components/certificate");
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    made = await generateSelfSignedCertificate(
      cert.resolveSelfSignedCertificate({ domain: "apps.unit.test" }),
    );
  });
  beforeEach(() => resources.splice(0));

  it("one keypair child; the key secret everywhere, never a plain input; the certificate plain", async () => {
    const c = new cert.SelfSignedCertificate("platform-certificate", {
      domain: "apps.unit.test",
      validityDays: 90,
    });
    const pem = await valueOf(c.certificate);
    const key = await valueOf(c.privateKey);
    expect(pem).toBe(made.certificate);
    expect(key).toBe(made.privateKey);
    expect(await pulumi.isSecret(c.privateKey)).toBe(true);
    expect(await pulumi.isSecret(c.tls.privateKey as pulumi.Output<string>)).toBe(true);
    expect(await pulumi.isSecret(c.certificate)).toBe(false);
    expect(await valueOf(c.notAfter)).toBe(made.notAfter);
    expect(await valueOf(c.fingerprint)).toBe(made.fingerprint);
    expect(await valueOf(c.dnsNames)).toEqual(["*.apps.unit.test", "apps.unit.test"]);

    const component = resources.find((r) => r.type === "geartrain:platform:SelfSignedCertificate");
    expect(component?.name).toBe("platform-certificate");
    const children = resources.filter((r) => r.parent.endsWith("::platform-certificate"));
    expect(children.map((r) => r.name)).toEqual(["platform-certificate-keypair"]);
    const [pair] = children;
    expect(pair.type).toMatch(/GeneratedCertificate$/);
    expect(pair.additionalSecretOutputs).toEqual(["privateKey"]);
    // what the engine gets as inputs: the spec, no key (and no certificate) in them
    expect(pair.inputs).toMatchObject({
      domain: "apps.unit.test",
      commonName: "*.apps.unit.test",
      dnsNames: ["*.apps.unit.test", "apps.unit.test"],
      validityDays: 90,
      algorithm: "ecdsa-p256",
    });
    const keyBody = made.privateKey.split("\n")[1];
    for (const r of resources) {
      const text = JSON.stringify(r.inputs);
      expect({ resource: r.name, leaked: text.includes(keyBody) }).toEqual({
        resource: r.name,
        leaked: false,
      });
    }
  });

  it("bad args fail naming the field, before any child is declared", async () => {
    for (const [args, field] of [
      [{ domain: "localhost" }, "domain"],
      [{ domain: "a.example", dnsNames: ["a.example", "x y"] }, "dnsNames\\[1\\]"],
      [{ domain: "a.example", validityDays: 0 }, "validityDays"],
      [{ domain: "a.example", algorithm: "dsa" }, "algorithm"],
    ] as const) {
      resources.splice(0);
      expect(() => new cert.SelfSignedCertificate("bad", args as never)).toThrow(
        new RegExp(`^invalid ${field}:`),
      );
      expect(() => new cert.SelfSignedCertificate("bad2", args as never)).toThrow(pulumi.ResourceError);
      expect(resources.filter((r) => r.name.startsWith("bad-") || r.name.startsWith("bad2-"))).toEqual([]);
    }
  });
});
