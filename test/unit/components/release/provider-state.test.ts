// The ReleaseInstall provider is serialized into the state of every InstalledRelease: modules go in as
// `require(...)` lines, never as code; the bundle builder (walks, tar, gzip) stays out of it (the program
// builds the archive); no secret can be captured (it reads everything from its inputs).
import * as pulumi from "@pulumi/pulumi";
import { releaseInstallProvider } from "../../../../components/release/provider";

describe("ReleaseInstall's serialized provider", () => {
  let text: string;
  beforeAll(async () => {
    text = (await pulumi.runtime.serializeFunction(() => releaseInstallProvider, { allowSecrets: false }))
      .text;
  });

  it("references ssh2, fs and crypto as modules and carries the host script", () => {
    expect(text).toContain('require("ssh2/lib/index.js")');
    expect(text).toContain('require("fs")');
    expect(text).toContain('require("crypto")');
    expect(text).toContain("geartrain-release: $*");
  });

  it("does not carry the bundle builder, and stays small", () => {
    expect(text).not.toContain("createGzip");
    expect(text).not.toContain("entryHeader");
    expect(text.length).toBeLessThan(30000);
  });
});
