import * as fs from "fs";
import * as path from "path";
import { EXIT, group, runCartridgeCli, USAGE, type Io } from "../../../cartridges/cli";
import { formatLintResults, lintCartridges } from "../../../cartridges/lint";
import { main } from "../../../services/cli/main";
import { cleanUp, copyFixture, FIXTURES } from "./helpers";

afterEach(cleanUp);

const MINIMAL = path.join(FIXTURES, "minimal");
const FULL = path.join(FIXTURES, "full");
const BROKEN = path.join(FIXTURES, "broken");

/** Runs the CLI and captures what it writes. */
async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(...t.split("\n")), err: (t) => err.push(...t.split("\n")) };
  const code = await runCartridgeCli(argv, io);
  return { code, out, err };
}

describe("geartrain cartridge lint", () => {
  it("exits 0 and says ok for valid cartridges", async () => {
    const { code, out, err } = await run("lint", MINIMAL, FULL);
    expect(code).toBe(EXIT.OK);
    expect(err).toEqual([]);
    expect(out).toEqual([
      `${MINIMAL}: ok (geartrain:minimal:1.0:0.0.1)`,
      `${FULL}: ok (geartrain:example:1.1:0.1.2)`,
      "2 cartridges checked, no problems",
    ]);
  });

  it("exits 3 and prints every problem of every cartridge", async () => {
    const { code, out } = await run("lint", BROKEN, MINIMAL);
    expect(code).toBe(EXIT.PROBLEMS);
    const manifest = path.join(BROKEN, "metadata/manifest.yml");
    expect(out).toEqual([
      `${manifest}: Version: missing; expected a quoted version number such as '5.4' or '0.0.28' (digits separated by dots) (add it, e.g. Version: "5.4")`,
      `${manifest}: Name: expected a cartridge name other than the reserved app-root and git, got "git" (the gear already has ~/git; rename the cartridge)`,
      `${manifest}: Cartridge-Short-Name: expected an upper-case short name: a letter A-Z, then up to 31 letters A-Z or digits, no '-' or '_', got "broken-name" (e.g. Cartridge-Short-Name: PHP)`,
      `${manifest}: Cartridge-Version: expected a quoted version number such as '5.4' or '0.0.28' (digits separated by dots), got the number 0.1 (quote it so YAML reads it as text, e.g. Cartridge-Version: "5.4")`,
      `${manifest}: Cartridge-Vendor: expected a vendor name of your own, got the reserved "redhat" (use your organisation's name, e.g. Cartridge-Vendor: mycompany)`,
      `${manifest}: Cartrige-Vendor: unknown key; expected a known manifest key (did you mean "Cartridge-Vendor"? rename it)`,
      `${manifest}: Endpoints[0].Private-Port-Name: missing; expected it because Private-IP-Name and Private-Port are set: an endpoint with any of Private-IP-Name, Private-Port-Name, Private-Port needs all three (add it, e.g. Private-Port-Name: PORT)`,
      `${path.join(BROKEN, "bin/control")}: expected an executable file, got mode 0644 (run chmod +x bin/control)`,
      `${path.join(BROKEN, "env/bad-name")}: expected a file named after an environment variable (upper-case letters, digits and '_', not starting with a digit), got "bad-name" (rename the file)`,
      `${MINIMAL}: ok (geartrain:minimal:1.0:0.0.1)`,
      "2 cartridges checked, 1 with problems (9 problems)",
    ]);
  });

  it("prints paths as given (relative stays relative)", async () => {
    const dir = copyFixture("minimal");
    const cwd = process.cwd();
    process.chdir(path.dirname(dir));
    try {
      const { code, out } = await run("lint", "minimal", "missing");
      expect(code).toBe(EXIT.PROBLEMS);
      expect(out).toEqual([
        "minimal: ok (geartrain:minimal:1.0:0.0.1)",
        "missing: expected a cartridge directory, got nothing there (check the path)",
        "2 cartridges checked, 1 with problems (1 problem)",
      ]);
    } finally {
      process.chdir(cwd);
    }
  });

  it("--json prints machine-readable results", async () => {
    const { code, out } = await run("lint", "--json", MINIMAL, BROKEN);
    expect(code).toBe(EXIT.PROBLEMS);
    const results = JSON.parse(out.join("\n"));
    expect(results).toHaveLength(2);
    expect(results[0]).toEqual({ dir: MINIMAL, ok: true, problems: [] });
    expect(results[1].ok).toBe(false);
    expect(results[1].problems).toHaveLength(9);
    expect(results[1].problems[1]).toEqual({
      file: path.join(BROKEN, "metadata/manifest.yml"),
      path: "Name",
      line: 2,
      column: 1,
      message: `expected a cartridge name other than the reserved app-root and git, got "git" (the gear already has ~/git; rename the cartridge)`,
    });
  });

  it("--env-prefix changes the platform namespace checked in env/", async () => {
    const dir = copyFixture("minimal");
    fs.writeFileSync(path.join(dir, "env/OPENSHIFT_APP_DNS"), "x");
    expect((await run("lint", dir)).code).toBe(EXIT.OK);
    const { code, out } = await run("lint", "--env-prefix", "OPENSHIFT_", dir);
    expect(code).toBe(EXIT.PROBLEMS);
    expect(out[0]).toMatch(
      /env\/OPENSHIFT_APP_DNS: expected a variable outside the platform's OPENSHIFT_\* namespace/,
    );
  });

  it.each([
    [[], /^geartrain cartridge: tools for cartridge authors/],
    [["lint"], /^geartrain cartridge lint: name at least one cartridge directory$/],
    [["lint", "--frobnicate", MINIMAL], /^geartrain cartridge lint: Unknown option '--frobnicate'/],
    [["lint", "--env-prefix", "bad", MINIMAL], /^geartrain cartridge lint: --env-prefix must match/],
    [["check", MINIMAL], /^geartrain cartridge: unknown command 'check'$/],
  ])("usage error %j exits 2", async (argv, message) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(EXIT.USAGE);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(message);
  });

  it.each([[["--help"]], [["help"]], [["lint", "--help"]], [["lint", "-h"]]])(
    "%j prints the usage and exits 0",
    async (argv) => {
      const { code, out } = await run(...argv);
      expect(code).toBe(EXIT.OK);
      expect(out.join("\n")).toBe(USAGE);
    },
  );
});

describe("wiring", () => {
  it("`geartrain cartridge` is a group of the main CLI", async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      expect(await main(["cartridge", "lint", MINIMAL])).toBe(0);
      expect(await main(["cartridge", "lint", BROKEN])).toBe(3);
    } finally {
      spy.mockRestore();
    }
    expect(writes[0]).toBe(`${MINIMAL}: ok (geartrain:minimal:1.0:0.0.1)\n`);
    expect(writes).toContain("1 cartridge checked, 1 with problems (9 problems)\n");
    expect(group.summary).toBe("cartridge authoring tools (lint)");
  });

  it("lintCartridges and formatLintResults are usable on their own", async () => {
    const results = await lintCartridges([MINIMAL]);
    expect(results[0]!.cartridge?.manifest.Name).toBe("minimal");
    expect(formatLintResults(results)).toEqual([
      `${MINIMAL}: ok (geartrain:minimal:1.0:0.0.1)`,
      "1 cartridge checked, no problems",
    ]);
  });
});
