import { closestMatch, editDistance } from "../../../common/suggest";

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "abc", 0],
    ["abc", "", 3],
    ["kitten", "sitting", 3],
    ["ab", "ba", 1], // a swap is one edit
    ["Cartrige", "Cartridge", 1],
    ["Versoin", "Version", 1],
  ])("%s → %s = %i", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe("closestMatch", () => {
  const keys = ["Name", "Version", "Versions", "Cartridge-Version", "Endpoints", "Obsolete"];

  it("prefers the same word in another case", () => {
    expect(closestMatch("name", keys)).toBe("Name");
    expect(closestMatch("VERSIONS", keys)).toBe("Versions");
  });

  it("finds typos within about a third of the length", () => {
    expect(closestMatch("Cartrige-Versoin", keys)).toBe("Cartridge-Version");
    expect(closestMatch("Endpionts", keys)).toBe("Endpoints");
    expect(closestMatch("Obsoletes", keys)).toBe("Obsolete");
  });

  it("gives nothing for unrelated words or very short ones far off", () => {
    expect(closestMatch("Requires-Memory", keys)).toBeUndefined();
    expect(closestMatch("Foo", keys)).toBeUndefined();
    expect(closestMatch("x", ["y"])).toBe("y"); // a one-letter word allows one edit
    expect(closestMatch("xy", ["ab"])).toBeUndefined();
  });
});
