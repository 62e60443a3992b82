import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  directOnly,
  lockedPackages,
  packageManagerProblem,
  programDependencies,
} from "../../../plugins/language-nodejs/dependencies";

describe("lockedPackages", () => {
  it("reads a v3 lock file: nested packages by their own name, links at their target's version", () => {
    expect(
      lockedPackages({
        lockfileVersion: 3,
        packages: {
          "": { version: "0.1.0" },
          "node_modules/@pulumi/pulumi": { version: "3.248.0" },
          "node_modules/a/node_modules/semver": { version: "5.7.2" },
          "node_modules/semver": { version: "7.6.0" },
          "node_modules/local-dep": { link: true, resolved: "local-dep" },
          "local-dep": { version: "1.2.3" },
        },
      }),
    ).toEqual([
      { name: "@pulumi/pulumi", version: "3.248.0" },
      { name: "local-dep", version: "1.2.3" },
      { name: "semver", version: "5.7.2" },
      { name: "semver", version: "7.6.0" },
    ]);
  });

  it("reads a v1 lock file", () => {
    expect(
      lockedPackages({
        lockfileVersion: 1,
        dependencies: { a: { version: "1.0.0", dependencies: { b: { version: "2.0.0" } } } },
      }),
    ).toEqual([
      { name: "a", version: "1.0.0" },
      { name: "b", version: "2.0.0" },
    ]);
  });
});

describe("directOnly", () => {
  it("keeps the packages package.json names, each once", () => {
    const packages = [
      { name: "a", version: "1" },
      { name: "b", version: "1" },
      { name: "b", version: "2" },
      { name: "c", version: "1" },
    ];
    expect(directOnly(packages, { dependencies: { b: "^1" }, devDependencies: { c: "*" } })).toEqual([
      { name: "b", version: "1" },
      { name: "c", version: "1" },
    ]);
  });
});

describe("packageManagerProblem and programDependencies", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-deps-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("accepts npm and refuses other package managers, saying how to fix it", () => {
    expect(packageManagerProblem(undefined, dir)).toBeUndefined();
    expect(packageManagerProblem("npm", dir)).toBeUndefined();
    expect(packageManagerProblem("pnpm", dir)).toMatch(/packagemanager is "pnpm".*only npm/);
    fs.writeFileSync(path.join(dir, "yarn.lock"), "");
    expect(packageManagerProblem("auto", dir)).toMatch(
      /yarn\.lock says the project uses yarn.*set runtime\.options\.packagemanager to npm/,
    );
    expect(packageManagerProblem("npm", dir)).toBeUndefined();
  });

  it("finds package-lock.json upwards and lists direct or all dependencies", () => {
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ dependencies: { a: "1" } }));
    fs.writeFileSync(
      path.join(dir, "package-lock.json"),
      JSON.stringify({
        lockfileVersion: 3,
        packages: { "node_modules/a": { version: "1.0.0" }, "node_modules/b": { version: "2.0.0" } },
      }),
    );
    const program = path.join(dir, "src");
    fs.mkdirSync(program);
    expect(programDependencies(program, false)).toEqual([{ name: "a", version: "1.0.0" }]);
    expect(programDependencies(program, true)).toHaveLength(2);
  });

  it("says to run pulumi install when there is no lock file", () => {
    expect(() => programDependencies(dir, false)).toThrow(/no package-lock\.json found .*`pulumi install`/);
  });
});
