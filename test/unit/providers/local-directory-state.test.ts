// LocalDirectory's provider is serialized into the state of every LocalDirectory (twice: inputs and
// outputs), and the file backend rewrites the whole state after each step (docs/performance.md, "Dynamic
// resources in the state"). Modules must go in as `require(...)` lines, never as code.
import * as pulumi from "@pulumi/pulumi";
import { localDirectoryProvider } from "../../../providers/local-directory";

describe("LocalDirectory's serialized provider", () => {
  let text: string;

  beforeAll(async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => localDirectoryProvider, {
      allowSecrets: true,
    });
    text = serialized.text;
  });

  it("references fs/promises and pulumi.log as modules", () => {
    expect(text).toContain('require("fs/promises")');
    expect(text).toContain('require("@pulumi/pulumi/log/index.js")');
  });

  it("carries no TypeScript import helpers and stays under 5 KB", () => {
    expect(text).not.toMatch(/__importStar|__createBinding|__setModuleDefault/);
    expect(text.length).toBeLessThan(5000);
  });
});
