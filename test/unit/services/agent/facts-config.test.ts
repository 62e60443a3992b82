// The agent's facts (pure) and its config file validation.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { factsOf } from "../../../../services/agent/facts";
import { readPasswordFile, validateAgentConfig } from "../../../../services/agent/config";
import { validateFacts } from "../../../../services/bus/actions";

const cfg = {
  node: "n1",
  district: "d1",
  profile: "small",
  maxActiveGears: 10,
  publicHostname: "n1.example.com",
};

test("facts: created gears are active; one cartridge entry per version, sorted, typed", () => {
  const f = factsOf(
    cfg,
    [{ phase: "created" }, { phase: "creating" }, { phase: "created" }, { phase: "unmanaged" }],
    [
      { name: "postgresql", versions: ["15"], categories: ["service", "database"] },
      { name: "nodejs", versions: ["20", "18"], categories: ["web_framework"] },
    ],
    1234,
  );
  expect(f).toEqual({
    ...cfg,
    activeGears: 2,
    cartridges: [
      { name: "nodejs", version: "18", type: "standalone" },
      { name: "nodejs", version: "20", type: "standalone" },
      { name: "postgresql", version: "15", type: "embedded" },
    ],
    at: 1234,
  });
  expect(validateFacts(f)).toEqual(f);
});

const good = {
  bus: { host: "127.0.0.1", port: 61613, user: "agent-n1", passwordFile: "/etc/geartrain/agent.password" },
  node: "n1",
  district: "d1",
  profile: "small",
  maxActiveGears: 10,
  publicHostname: "n1.example.com",
};

test("config: valid, and each bad field named", () => {
  expect(validateAgentConfig(good)).toEqual(good);
  expect(() => validateAgentConfig({ ...good, node: "N.1" })).toThrow(/invalid config\.node/);
  expect(() => validateAgentConfig({ ...good, bus: { ...good.bus, port: 0 } })).toThrow(
    /invalid config\.bus\.port/,
  );
  expect(() => validateAgentConfig({ ...good, bus: { ...good.bus, password: "x" } })).toThrow(
    "invalid config.bus.password: unknown key",
  );
  const { district: _d, ...noDistrict } = good;
  expect(() => validateAgentConfig(noDistrict)).toThrow("invalid config.district: is missing");
});

test("the password file must not be readable by others", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gt-agent-pw-"));
  try {
    const f = path.join(dir, "pw");
    writeFileSync(f, "s3cret-password\nignored\n");
    chmodSync(f, 0o600);
    expect(readPasswordFile(f)).toBe("s3cret-password");
    chmodSync(f, 0o644);
    expect(() => readPasswordFile(f)).toThrow(/readable by others/);
    expect(() => readPasswordFile(path.join(dir, "missing"))).toThrow(/cannot read the bus password file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
