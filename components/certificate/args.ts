// Types of the platform's TLS certificate: a self-signed wildcard generated once by the stack (dev), or one
// the user provides (stage, prod) as stack config secrets. docs/platform.md "Certificates / HTTPS".
import * as pulumi from "@pulumi/pulumi";

/** Key algorithms a SelfSignedCertificate can have. */
export type CertificateKeyAlgorithm = "ecdsa-p256" | "rsa-2048";

export interface SelfSignedCertificateArgs {
  /**
   * The cloud domain. The certificate is for `*.<domain>` (every gear's own `<app>-<namespace>.<domain>`,
   * the infrastructure hosts' `<host>.<domain>`) and `<domain>` itself.
   * @example "apps.dev.geartrain.test"
   */
  readonly domain: string;
  /** Subject alternative names (DNS), each `name` or `*.name`. @default ["*.<domain>", "<domain>"] */
  readonly dnsNames?: readonly string[];
  /** The subject's CN (and issuer's: self-signed). @default "*.<domain>" */
  readonly commonName?: string;
  /** Days from creation until it expires (it is not renewed by itself: see docs). @default 365 */
  readonly validityDays?: number;
  /** @default "ecdsa-p256" */
  readonly algorithm?: CertificateKeyAlgorithm;
}

/**
 * A certificate chain and its private key, as the frontends (NodeHost), the brokers and the bus take it: a
 * SelfSignedCertificate's `tls`, or the user's own (stage/prod: `pulumi config set geartrain:tlsCertificate`
 * and `pulumi config set --secret geartrain:tlsPrivateKey`, each read from stdin). Structurally the
 * Platform's `ProvidedCertificate`.
 */
export interface TlsCertificate {
  /** PEM, the leaf first; it must cover `*.<domain>`. */
  readonly certificate: pulumi.Input<string>;
  /** PEM private key of the leaf (a secret). */
  readonly privateKey: pulumi.Input<string>;
}

export const CERTIFICATE_DEFAULTS = {
  validityDays: 365,
  algorithm: "ecdsa-p256" as CertificateKeyAlgorithm,
  /** At most (a bit over 27 years: past 2049 X.509 switches to GeneralizedTime, which is fine). */
  maxValidityDays: 10000,
  maxDnsNames: 100,
} as const;
