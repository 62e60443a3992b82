// SelfSignedCertificate: the platform's wildcard certificate for `*.<domain>` and `<domain>`, generated once
// by the stack (dev and tests) and kept: the private key is a Pulumi secret, the certificate a plain output.
// For stage and prod the user brings a certificate (TlsCertificate, from stack config secrets) and this
// component is not used. docs/platform.md "Certificates / HTTPS".
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../host/resolve";
import { attributeErrors } from "../resource-error";
import { SelfSignedCertificateArgs, TlsCertificate } from "./args";
import { GeneratedCertificateResource } from "./provider";
import { CertificateSpec, resolveSelfSignedCertificate } from "./resolve";

export * from "./args";
export { resolveSelfSignedCertificate, changedCertificateInputs, type CertificateSpec } from "./resolve";
export { renderOpensslConfig, opensslArgv } from "./render";
export { describeCertificate, certificateProblems, type CertificateFacts } from "./inspect";

export class SelfSignedCertificate extends pulumi.ComponentResource {
  /** The certificate, PEM (plain: it is public). */
  public readonly certificate: pulumi.Output<string>;
  /** Its private key, PEM (secret). */
  public readonly privateKey: pulumi.Output<string>;
  /** `{certificate, privateKey}`: what the NodeHost, the brokers and the bus take. */
  public readonly tls: TlsCertificate;
  public readonly domain: pulumi.Output<string>;
  public readonly dnsNames: pulumi.Output<string[]>;
  /** When it expires (ISO 8601). */
  public readonly notAfter: pulumi.Output<string>;
  /** SHA-256 fingerprint (colon-separated hex). */
  public readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: SelfSignedCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:SelfSignedCertificate", name, {}, opts);
    const spec: CertificateSpec = attributeErrors(this, () => resolveSelfSignedCertificate(args));
    const made = new GeneratedCertificateResource(childName(name, "keypair"), spec, { parent: this });
    this.certificate = made.certificate;
    this.privateKey = pulumi.secret(made.privateKey);
    this.tls = { certificate: this.certificate, privateKey: this.privateKey };
    this.domain = pulumi.output(spec.domain);
    this.dnsNames = pulumi.output([...spec.dnsNames]);
    this.notAfter = made.notAfter;
    this.fingerprint = made.fingerprint;
    this.registerOutputs({
      certificate: this.certificate,
      privateKey: this.privateKey,
      domain: this.domain,
      dnsNames: this.dnsNames,
      notAfter: this.notAfter,
      fingerprint: this.fingerprint,
    });
  }
}
