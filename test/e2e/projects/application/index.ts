// A domain and one Application in it, on the broker the test started: its connection (URL + token) and one variable are secret
// config. `profile` and `appName` let the test ask for a replacement.
import * as pulumi from "@pulumi/pulumi";
import { Application } from "../../../../components/application";
import { BrokerDomain } from "../../../../providers/domain";

const config = new pulumi.Config();
const connection = pulumi
  .all([config.require("server"), config.requireSecret("token")])
  .apply(([server, token]) => ({ server, token }));
const domain = new BrokerDomain("team", { connection, name: config.require("domain") });
const app = new Application("web", {
  connection,
  domain: domain.name,
  name: config.get("appName") ?? "web1",
  webCartridge: "nodejs-20",
  gearProfile: config.get("profile") ?? "small",
  env: { GREETING: "hello", API_KEY: config.requireSecret("apiKey") },
});
export const appUrl = app.appUrl;
export const gitUrl = app.gitUrl;
export const fqdn = app.fqdn;
export const appId = app.appId;
