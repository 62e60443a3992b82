// Start-up cost: a command loads only the modules it uses. These modules throw when loaded, so a command
// that pulls one in (a static import where a lazy one belongs) fails here instead of slowing every start.
jest.mock("yaml", () => {
  throw new Error("yaml was loaded");
});
jest.mock("ajv/dist/2020", () => {
  throw new Error("ajv was loaded");
});
jest.mock("handlebars", () => {
  throw new Error("handlebars was loaded");
});
jest.mock("../../../node/gear/lifecycle", () => {
  throw new Error("node/gear/lifecycle was loaded");
});
jest.mock("../../../node/context", () => {
  throw new Error("node/context was loaded");
});

import { main } from "../../../services/cli/main";

describe("geartrain start-up loads only what the command uses", () => {
  let out: string[];
  beforeEach(() => {
    out = [];
    jest.spyOn(console, "log").mockImplementation((m: string) => void out.push(m));
    jest.spyOn(process.stdout, "write").mockImplementation((m: string | Uint8Array) => {
      out.push(String(m));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it.each([
    [["--help"], /^ {2}cartridge {3}cartridge authoring/m],
    [["node", "--help"], /geartrain node gear create/],
    [["cartridge", "--help"], /geartrain cartridge lint/],
    [["node", "mcs-label", "1000"], /^s0:c\d+,c\d+$/],
    [["node", "addresses", "1000", "--json"], /"loopback"/],
  ])("geartrain %j", async (argv, expected) => {
    expect(await main(argv)).toBe(0);
    expect(out.join("\n")).toMatch(expected);
  });

  it("fails here when a command does load one of them", async () => {
    await expect(import("../../../node/gear/lifecycle")).rejects.toThrow(/lifecycle was loaded/);
  });
});
