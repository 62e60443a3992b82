import { main } from "../../../services/cli/main";

describe("geartrain CLI", () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(console, "log").mockImplementation((m: string) => void out.push(m));
    jest.spyOn(console, "error").mockImplementation((m: string) => void err.push(m));
  });
  afterEach(() => jest.restoreAllMocks());

  it("lists its command groups on --help and exits 0", async () => {
    expect(await main(["--help"])).toBe(0);
    expect(out.join("\n")).toMatch(/Usage: geartrain <group> <command>/);
    expect(out.join("\n")).toMatch(/^ {2}node {8}/m);
  });

  it("rejects an unknown group with exit code 2 and the usage", async () => {
    expect(await main(["frobnicate"])).toBe(2);
    expect(err.join("\n")).toMatch(/unknown command group 'frobnicate'/);
  });
});
