// What a PEM certificate says about itself, and whether it serves a cloud domain: for a certificate the
// user provides (stage, prod), checked before anything uses it. No I/O: common/pem.ts parses it.
import type { X509Certificate } from "crypto";
import { ValidationError } from "../../common/errors";
import { keyMatchesCertificate, parseCertificateChain, parsePrivateKey } from "../../common/pem";

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

/** The leaf (the first certificate of a PEM chain, common/pem.ts). Throws a ValidationError naming `field`. */
function leaf(pem: string, field: string): X509Certificate {
  return parseCertificateChain(field, pem).certificates[0]!;
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
    let key;
    try {
      key = parsePrivateKey("privateKey", opts.privateKey).key;
    } catch (e) {
      out.push(e as ValidationError);
      return out;
    }
    if (!keyMatchesCertificate(x, key))
      out.push(new ValidationError("privateKey", "is not the key of the certificate"));
  }
  return out;
}
