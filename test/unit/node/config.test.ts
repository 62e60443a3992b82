import { mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { ValidationError } from "../../../common/errors";
import { defaultConfig, loadConfig, resolveConfig } from "../../../node/config";

test("defaults follow the reference (small 512 MiB + 100 MiB swap, nproc 250) with weight 25", () => {
  const c = defaultConfig();
  expect(c.profiles.small).toEqual({
    memoryBytes: 536870912,
    swapBytes: 104857600,
    pids: 250,
    cpuWeight: 25,
    cpuMax: 2,
    diskBytes: 1073741824,
    diskFiles: 80000,
  });
  expect(c.profiles.small.memoryBytes + c.profiles.small.swapBytes).toBe(641728512); // memsw in resource_limits.conf
  expect(c.district).toEqual({ firstUid: 1000, maxUid: 6999 });
  expect(c.stateDir).toBe("/var/lib/geartrain/.geartrain");
});

test("file overlays defaults; profiles merge per key; stateDir follows gearBaseDir", () => {
  const c = resolveConfig({
    gearBaseDir: "/srv/gears/",
    profiles: { small: { cpuWeight: 50 }, xl: { ...defaultConfig().profiles.large, pids: 9 } },
  });
  expect(c.gearBaseDir).toBe("/srv/gears");
  expect(c.stateDir).toBe("/srv/gears/.geartrain");
  expect(c.profiles.small.cpuWeight).toBe(50);
  expect(c.profiles.small.memoryBytes).toBe(536870912);
  expect(c.profiles.xl.pids).toBe(9);
});

test("selinux.gitSshPort: absent or null = none; an integer port 1..65535", () => {
  expect(defaultConfig().selinux).toEqual({ gitSshPort: null });
  expect(resolveConfig({}).selinux).toEqual({ gitSshPort: null });
  expect(resolveConfig({ selinux: {} }).selinux).toEqual({ gitSshPort: null });
  expect(resolveConfig({ selinux: { gitSshPort: null } }).selinux).toEqual({ gitSshPort: null });
  expect(resolveConfig({ selinux: { gitSshPort: 10022 } }).selinux).toEqual({ gitSshPort: 10022 });
  expect(resolveConfig({ selinux: { gitSshPort: 1 } }).selinux.gitSshPort).toBe(1);
  expect(resolveConfig({ selinux: { gitSshPort: 65535 } }).selinux.gitSshPort).toBe(65535);
  // the resolved config reads back as itself (node.json is rendered resolved)
  const c = resolveConfig({ selinux: { gitSshPort: 10022 } });
  expect(resolveConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
});

test.each([
  [{ gearBaseDir: "relative" }, "config.gearBaseDir"],
  [{ district: { firstUid: 10, maxUid: 20 } }, "config.district"],
  [{ district: { firstUid: 2000, maxUid: 1000 } }, "config.district.maxUid"],
  [{ cgroup: { version: "v3" } }, "config.cgroup.version"],
  [{ cgroup: { rootName: "../x" } }, "config.cgroup.rootName"],
  [{ disk: { mode: "zfs" } }, "config.disk.mode"],
  [{ envPrefix: "lower_" }, "config.envPrefix"],
  [{ profiles: { small: { memoryBytes: 1000 } } }, "config.profiles.small.memoryBytes"],
  [{ profiles: { small: { cpuWeight: 0 } } }, "config.profiles.small.cpuWeight"],
  [{ defaultProfile: "nope" }, "config.defaultProfile"],
  [{ typo: 1 }, "config.typo"],
  [{ selinux: 10022 }, "config.selinux"],
  [{ selinux: { sshPort: 10022 } }, "config.selinux.sshPort"],
  [{ selinux: { gitSshPort: 0 } }, "config.selinux.gitSshPort"],
  [{ selinux: { gitSshPort: 65536 } }, "config.selinux.gitSshPort"],
  [{ selinux: { gitSshPort: 22.5 } }, "config.selinux.gitSshPort"],
  [{ selinux: { gitSshPort: "10022" } }, "config.selinux.gitSshPort"],
])("bad config %j → %s", (doc, field) => {
  try {
    resolveConfig(doc);
    throw new Error("accepted");
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe(field);
  }
});

test("loadConfig: GEARTRAIN_NODE_CONFIG must exist; JSON errors are reported", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gt-cfg-"));
  try {
    expect(() => loadConfig({ GEARTRAIN_NODE_CONFIG: path.join(dir, "missing.json") })).toThrow(
      /cannot read/,
    );
    writeFileSync(path.join(dir, "bad.json"), "{");
    expect(() => loadConfig({ GEARTRAIN_NODE_CONFIG: path.join(dir, "bad.json") })).toThrow(/not valid JSON/);
    writeFileSync(path.join(dir, "ok.json"), JSON.stringify({ cloudDomain: "apps.example.org" }));
    expect(loadConfig({ GEARTRAIN_NODE_CONFIG: path.join(dir, "ok.json") }).cloudDomain).toBe(
      "apps.example.org",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
