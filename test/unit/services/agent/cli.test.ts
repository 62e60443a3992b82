// `geartrain agent`: usage errors and a bad config fail before anything connects, with the common exit codes.

import { mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { group } from "../../../../services/agent/cli";

let out: string[];
let spies: jest.SpyInstance[];

beforeEach(() => {
  out = [];
  const keep = (chunk: unknown) => void out.push(String(chunk));
  spies = [
    jest.spyOn(process.stdout, "write").mockImplementation((c) => (keep(c), true)),
    jest.spyOn(process.stderr, "write").mockImplementation((c) => (keep(c), true)),
    jest.spyOn(console, "log").mockImplementation((c) => keep(c)),
  ];
});
afterEach(() => spies.forEach((s) => s.mockRestore()));

test("usage: no command, an unknown one, run without --config", async () => {
  expect(await group.run([])).toBe(2);
  expect(await group.run(["frob"])).toBe(2);
  expect(out.join("")).toContain("unknown agent command");
  expect(await group.run(["run"])).toBe(2);
  expect(out.join("")).toContain("run needs --config FILE");
  expect(await group.run(["--help"])).toBe(0);
});

test("a missing or invalid config file fails naming what is wrong", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gt-agent-cli-"));
  try {
    expect(await group.run(["run", "--config", path.join(dir, "none.json")])).toBe(1);
    expect(out.join("")).toContain("cannot read the agent config");
    const f = path.join(dir, "agent.json");
    writeFileSync(f, JSON.stringify({ node: "n1" }));
    expect(await group.run(["run", "--config", f])).toBe(3);
    expect(out.join("")).toContain("invalid config.bus: is missing");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
