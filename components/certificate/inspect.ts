// What a PEM certificate says about itself, and whether it serves a cloud domain: for a certificate the
// user provides (stage, prod), checked before anything uses it. No I/O: Node's X509Certificate parses it.
import { createPrivateKey, X509Certificate } from "crypto";
import { ValidationError } from "../../common/errors";

export interface CertificateFacts {
  readonly subject: string;
  readonly issuer: string;
  /** DNS subject alternative names. */
  readonly dnsNames: readonly string[];
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint: string;
  readonly selfSigned: boolean;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The leaf (the first certificate of a PEM chain). Throws a ValidationError naming `field`. */
function leaf(pem: string, field: string): X509Certificate {
  const first = typeof pem === "string" ? pem.match(PEM_CERTIFICATE)?.[0] : undefined;
  if (!first) throw new ValidationError(field, "must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
  try {
    return new X509Certificate(first);
  } catch (e) {
    throw new ValidationError(field, `is not a readable X.509 certificate: ${(e as Error).message}`);
  }
}

/** Subject, issuer, DNS names, validity and fingerprint of a PEM certificate's leaf. */
export function describeCertificate(pem: string, field = "certificate"): CertificateFacts {
  const x = leaf(pem, field);
  const dnsNames = (x.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4));
  return {
    subject: x.subject,
    issuer: x.issuer,
    dnsNames,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint: x.fingerprint256,
    // signed by its own key (checkIssued would also want keyCertSign, which a server certificate lacks)
    selfSigned: x.subject === x.issuer && x.verify(x.publicKey),
  };
}

/**
 * Why `pem` cannot be the platform certificate of `domain`, or []: it must cover every name under the
 * domain (`*.<domain>`) and the domain itself, be valid at `now`, and (given `privateKey`) match the key.
 * Each problem is a ValidationError naming `certificate` or `privateKey`.
 */
export function certificateProblems(
  pem: string,
  opts: { readonly domain: string; readonly privateKey?: string; readonly now?: Date },
): ValidationError[] {
  let x: X509Certificate;
  try {
    x = leaf(pem, "certificate");
  } catch (e) {
    return [e as ValidationError];
  }
  const out: ValidationError[] = [];
  const sample = `geartrain-name-check.${opts.domain}`;
  if (x.checkHost(sample) === undefined)
    out.push(
      new ValidationError(
        "certificate",
        `does not cover *.${opts.domain} (${x.subjectAltName ?? x.subject})`,
      ),
    );
  if (x.checkHost(opts.domain) === undefined)
    out.push(new ValidationError("certificate", `does not cover ${opts.domain} itself`));
  const now = (opts.now ?? new Date()).getTime();
  if (now < new Date(x.validFrom).getTime())
    out.push(
      new ValidationError("certificate", `is not valid before ${new Date(x.validFrom).toISOString()}`),
    );
  if (now > new Date(x.validTo).getTime())
    out.push(new ValidationError("certificate", `expired on ${new Date(x.validTo).toISOString()}`));
  if (opts.privateKey !== undefined) {
    let matches = false;
    try {
      matches = x.checkPrivateKey(createPrivateKey(opts.privateKey));
    } catch {
      out.push(new ValidationError("privateKey", "is not a readable PEM private key"));
      return out;
    }
    if (!matches) out.push(new ValidationError("privateKey", "is not the key of the certificate"));
  }
  return out;
}
