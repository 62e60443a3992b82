// The ServiceDaemon provider is serialized into the state of every Service: modules must go in as
// `require(...)` lines, never as code, and no secret can be captured (it reads everything from its inputs).
import * as pulumi from "@pulumi/pulumi";
import { serviceDaemonProvider } from "../../../../components/host/service/provider";

describe("ServiceDaemon's serialized provider", () => {
  let text: string;
  beforeAll(async () => {
    text = (await pulumi.runtime.serializeFunction(() => serviceDaemonProvider, { allowSecrets: false }))
      .text;
  });

  it("references ssh2, child_process and crypto as modules", () => {
    expect(text).toContain('require("ssh2/lib/index.js")');
    expect(text).toContain('require("child_process")');
    expect(text).toContain('require("crypto")');
  });

  it("stays small (it is stored twice per Service)", () => {
    expect(text.length).toBeLessThan(45000);
  });
});
