// The dynamic resource under a SelfSignedCertificate: `create` makes the key and the certificate once; later
// `up`s and previews keep them (`update` returns the old outputs); a change of any input (domain, names,
// CN, validity, algorithm) replaces it, so a new certificate is made. The private key is an additional
// secret output: the state holds it encrypted and it never appears in the inputs.
import * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "crypto";
import { generateSelfSignedCertificate, GeneratedCertificate } from "./generate";
import { CertificateSpec, changedCertificateInputs } from "./resolve";

export type GeneratedCertificateOutputs = CertificateSpec & GeneratedCertificate;

export const generatedCertificateProvider: pulumi.dynamic.ResourceProvider<
  CertificateSpec,
  GeneratedCertificateOutputs
> = {
  async create(inputs) {
    const made = await generateSelfSignedCertificate(inputs);
    return { id: randomBytes(8).toString("hex"), outs: { ...inputs, ...made } };
  },
  async diff(_id, olds, news) {
    const replaces = changedCertificateInputs(olds, news);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async update(_id, olds) {
    return { outs: olds };
  },
};

/** The key pair and certificate, made once (the SelfSignedCertificate's child `<name>-keypair`). */
export class GeneratedCertificateResource extends pulumi.dynamic.Resource {
  declare public readonly certificate: pulumi.Output<string>;
  /** Marked secret by the engine (additionalSecretOutputs); use SelfSignedCertificate.privateKey. */
  declare public readonly privateKey: pulumi.Output<string>;
  declare public readonly notBefore: pulumi.Output<string>;
  declare public readonly notAfter: pulumi.Output<string>;
  declare public readonly fingerprint: pulumi.Output<string>;
  declare public readonly serialNumber: pulumi.Output<string>;

  constructor(name: string, spec: CertificateSpec, opts?: pulumi.CustomResourceOptions) {
    super(
      generatedCertificateProvider,
      name,
      {
        ...spec,
        certificate: undefined,
        privateKey: undefined,
        notBefore: undefined,
        notAfter: undefined,
        fingerprint: undefined,
        serialNumber: undefined,
      },
      { ...opts, additionalSecretOutputs: ["privateKey"] },
      "geartrain",
      "GeneratedCertificate",
    );
  }
}
