// One SelfSignedCertificate for the cloud domain `domain` (config), valid `validityDays` (config, default
// 365): its certificate plain, its key a secret output.
import * as pulumi from "@pulumi/pulumi";
import { SelfSignedCertificate } from "../../../../components/certificate";

const config = new pulumi.Config();
const cert = new SelfSignedCertificate("platform-certificate", {
  domain: config.require("domain"),
  validityDays: config.getNumber("validityDays"),
});

export const certificate = cert.certificate;
export const privateKey = cert.privateKey;
export const fingerprint = cert.fingerprint;
export const notAfter = cert.notAfter;
