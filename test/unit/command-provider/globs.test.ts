import { compileGlob, globProblem, selectPaths } from "../../../plugins/command/globs";

describe("selectPaths", () => {
  it("follows upstream's documented example", () => {
    const files = ["assets/logos/logo.svg", "src/index.js", "src/secret.js"];
    expect(selectPaths(files, ["assets/**", "src/**.js", "!**secret.*"])).toEqual([
      "assets/logos/logo.svg",
      "src/index.js",
    ]);
  });

  it("applies rules in order: a later include re-adds what an exclude removed", () => {
    expect(selectPaths(["a.txt", "b.txt"], ["*.txt", "!*.txt", "b.*"])).toEqual(["b.txt"]);
    expect(selectPaths(["a.txt"], ["!a.txt"])).toEqual([]);
  });
});

describe("compileGlob", () => {
  it.each([
    ["*.txt", "a.txt", true],
    ["*.txt", "d/a.txt", false],
    ["**/*.txt", "d/e/a.txt", true],
    ["**/*.txt", "a.txt", false],
    ["**", "any/thing", true],
    ["?.js", "a.js", true],
    ["?.js", "/.js", false],
    ["[ab].js", "b.js", true],
    ["[!ab].js", "b.js", false],
    ["[a-c].js", "c.js", true],
    ["{src,lib}/*.js", "lib/x.js", true],
    ["{src,lib}/*.js", "test/x.js", false],
    ["file(1).txt", "file(1).txt", true],
    ["a+b.txt", "aab.txt", false],
    ["\\*.txt", "*.txt", true],
  ])("%s matches %s: %s", (glob, file, expected) => {
    expect(compileGlob(glob).test(file)).toBe(expected);
  });

  it("reports malformed globs", () => {
    expect(globProblem("!ok/**")).toBeUndefined();
    expect(globProblem("[abc")).toMatch(/unclosed \[/);
    expect(globProblem("{a,b")).toMatch(/unclosed \{/);
    expect(globProblem("a\\")).toMatch(/ends with an escape/);
  });
});
