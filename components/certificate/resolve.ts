// The SelfSignedCertificate's args, validated (each error a ValidationError naming the field) and with the
// defaults applied. Pure: no Pulumi, no I/O.
import { ValidationError } from "../../common/errors";
import { CERTIFICATE_DEFAULTS, CertificateKeyAlgorithm, SelfSignedCertificateArgs } from "./args";

/** What the certificate is made from: the dynamic resource's inputs (a change of any replaces it). */
export interface CertificateSpec {
  readonly domain: string;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly validityDays: number;
  readonly algorithm: CertificateKeyAlgorithm;
}

/** A DNS name: lower-case labels of letters, digits and '-', at least two labels, ≤ 253 characters. */
const DNS_NAME =
  /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

function describe(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function dnsName(v: unknown, field: string, wildcard: boolean): string {
  const name = typeof v === "string" && wildcard && v.startsWith("*.") ? v.slice(2) : v;
  if (typeof name !== "string" || !DNS_NAME.test(name))
    throw new ValidationError(
      field,
      `must be a lower-case DNS name with at least two labels${wildcard ? ", or *.<such a name>" : ""} (got ${describe(v)})`,
    );
  return v as string;
}

const ALGORITHMS: readonly CertificateKeyAlgorithm[] = ["ecdsa-p256", "rsa-2048"];

/** Validates the args and applies the defaults. Pure. */
export function resolveSelfSignedCertificate(args: SelfSignedCertificateArgs): CertificateSpec {
  if (typeof args !== "object" || args === null) throw new ValidationError("args", "must be an object");
  const domain = dnsName(args.domain, "domain", false);
  const dnsNames = args.dnsNames ?? [`*.${domain}`, domain];
  if (!Array.isArray(dnsNames) || dnsNames.length === 0 || dnsNames.length > CERTIFICATE_DEFAULTS.maxDnsNames)
    throw new ValidationError("dnsNames", `must be a list of 1..${CERTIFICATE_DEFAULTS.maxDnsNames} names`);
  dnsNames.forEach((n, i) => dnsName(n, `dnsNames[${i}]`, true));
  const dup = dnsNames.find((n, i) => dnsNames.indexOf(n) !== i);
  if (dup !== undefined) throw new ValidationError("dnsNames", `${describe(dup)} is listed twice`);
  const commonName = dnsName(args.commonName ?? `*.${domain}`, "commonName", true);
  const validityDays = args.validityDays ?? CERTIFICATE_DEFAULTS.validityDays;
  if (
    typeof validityDays !== "number" ||
    !Number.isInteger(validityDays) ||
    validityDays < 1 ||
    validityDays > CERTIFICATE_DEFAULTS.maxValidityDays
  )
    throw new ValidationError(
      "validityDays",
      `must be an integer in 1..${CERTIFICATE_DEFAULTS.maxValidityDays} (got ${describe(validityDays)})`,
    );
  const algorithm = args.algorithm ?? CERTIFICATE_DEFAULTS.algorithm;
  if (!ALGORITHMS.includes(algorithm))
    throw new ValidationError("algorithm", `must be ${ALGORITHMS.join(" or ")} (got ${describe(algorithm)})`);
  return { domain, commonName, dnsNames: [...dnsNames], validityDays, algorithm };
}

/** The inputs whose change makes another certificate (all of them). */
export const CERTIFICATE_INPUTS = ["domain", "commonName", "dnsNames", "validityDays", "algorithm"] as const;

/** Which inputs differ between two specs (JSON-compared). Pure. */
export function changedCertificateInputs(olds: CertificateSpec, news: CertificateSpec): string[] {
  return CERTIFICATE_INPUTS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
}
