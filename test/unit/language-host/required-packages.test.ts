import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findRequiredPackages } from "../../../plugins/language-nodejs/required-packages";
import { parseHostArgs } from "../../../plugins/language-nodejs/main";

function writePackage(root: string, dir: string, pkg: object): void {
  fs.mkdirSync(path.join(root, "node_modules", dir), { recursive: true });
  fs.writeFileSync(path.join(root, "node_modules", dir, "package.json"), JSON.stringify(pkg));
}

describe("findRequiredPackages", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "gt-langhost-"));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("lists resource plugins from pulumi metadata, sorted, with a v prefix", () => {
    writePackage(root, "@pulumi/command", {
      name: "@pulumi/command",
      version: "1.2.1",
      pulumi: { resource: true, name: "command", version: "1.2.1" },
    });
    writePackage(root, "@pulumi/aws", { name: "@pulumi/aws", version: "7.0.0", pulumi: { resource: true } });
    writePackage(root, "@pulumi/pulumi", { name: "@pulumi/pulumi", version: "3.248.0" });
    writePackage(root, "left-pad", { name: "left-pad", version: "1.0.0" });
    expect(findRequiredPackages(root)).toEqual([
      { name: "aws", version: "v7.0.0", server: "" },
      { name: "command", version: "v1.2.1", server: "" },
    ]);
  });

  it("skips third-party packages that do not name their plugin and unreadable package.json files", () => {
    writePackage(root, "acme-provider", {
      name: "acme-provider",
      version: "1.0.0",
      pulumi: { resource: true },
    });
    fs.mkdirSync(path.join(root, "node_modules", "broken"));
    fs.writeFileSync(path.join(root, "node_modules", "broken", "package.json"), "{not json");
    expect(findRequiredPackages(root)).toEqual([]);
  });

  it("returns nothing when there is no node_modules", () => {
    expect(findRequiredPackages(root)).toEqual([]);
  });
});

describe("parseHostArgs", () => {
  it("takes the engine address from the last positional argument and the tracing flag", () => {
    expect(parseHostArgs(["-tracing", "http://t", "-root", "/p", "127.0.0.1:5000"])).toEqual({
      engineAddress: "127.0.0.1:5000",
      tracing: "http://t",
    });
  });
  it("accepts flag=value forms", () => {
    expect(parseHostArgs(["--typescript=true", "127.0.0.1:1"]).engineAddress).toBe("127.0.0.1:1");
  });
});
