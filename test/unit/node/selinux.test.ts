// SELinux labels and the gear policy module: contexts, label drift parsing, module version tracking, and the
// module itself compiled with Debian's selinux-policy-dev (the real devel Makefile; no SELinux kernel needed).

import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, promises as fs, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import * as exec from "../../../node/host/exec";
import { mcsLabel } from "../../../node/host/mcs";
import {
  classifyGearProcess,
  GEAR_DOMAIN,
  gearExecContext,
  gearFileContext,
  MAX_LABEL_DRIFT,
  parseContext,
  parseFindLabels,
  processLabelDrift,
} from "../../../node/host/selinux/label";
import {
  buildModule,
  DEVEL_MAKEFILE,
  ensurePolicy,
  installedModules,
  launcherPath,
  LAUNCHER_CONTEXT,
  RELAY_ENTRY_CONTEXT,
  relayEntryPath,
  nodesModuleCil,
  nodesModuleOf,
  policyStatus,
  policySourceDir,
  policyVersion,
  readPolicySources,
  recordPath,
} from "../../../node/host/selinux/policy";

afterEach(() => jest.restoreAllMocks());

test("contexts parse; the gear exec context keeps the caller's user and role, takes the gear domain and level", () => {
  expect(parseContext("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023")).toEqual({
    user: "unconfined_u",
    role: "unconfined_r",
    type: "unconfined_t",
    range: "s0-s0:c0.c1023",
  });
  expect(parseContext("system_u:system_r:kernel_t:s0\0")?.type).toBe("kernel_t");
  expect(parseContext("kernel")).toBeNull();
  expect(parseContext("a:b:c:s0;rm -rf /")).toBeNull();

  const label = mcsLabel(1000);
  expect(gearExecContext("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023", label)).toBe(
    "unconfined_u:unconfined_r:geartrain_gear_t:s0:c0,c1000",
  );
  expect(gearExecContext("system_u:system_r:system_cronjob_t:s0-s0:c0.c1023", label)).toBe(
    "system_u:system_r:geartrain_gear_t:s0:c0,c1000",
  );
  // a role the module does not authorize for the gear domain
  expect(gearExecContext("staff_u:sysadm_r:sysadm_t:s0-s0:c0.c1023", label)).toBe(
    "staff_u:system_r:geartrain_gear_t:s0:c0,c1000",
  );
  expect(() => gearExecContext("kernel", label)).toThrow(/not a full context/);
  expect(gearFileContext(label)).toBe("system_u:object_r:geartrain_gear_file_t:s0:c0,c1000");
});

test("mislabelled files are counted exactly and the first ones listed; the SELinux user does not count", () => {
  const label = "s0:c1,c2";
  const want = gearFileContext(label);
  const rec = (ctx: string, p: string) => `${ctx}\t${p}\0`;
  const out =
    rec(want, "/h") +
    rec("unconfined_u:object_r:geartrain_gear_file_t:s0:c1,c2", "/h/made-by-the-gear") +
    rec("system_u:object_r:geartrain_gear_file_t:s0", "/h/.env/A") +
    rec("system_u:object_r:var_lib_t:s0:c1,c2", "/h/wrong-type") +
    rec("?", "/h/x") +
    rec("", "/h/tab\tname") +
    rec(want, "/h/ok");
  expect(parseFindLabels(out, label)).toEqual({
    count: 4,
    first: [
      ["/h/.env/A", "system_u:object_r:geartrain_gear_file_t:s0"],
      ["/h/wrong-type", "system_u:object_r:var_lib_t:s0:c1,c2"],
      ["/h/x", "?"],
      ["/h/tab\tname", "?"],
    ],
  });
  const many = Array.from({ length: 50 }, (_, i) => rec("?", `/h/${i}`)).join("");
  const r = parseFindLabels(many, label);
  expect(r.count).toBe(50);
  expect(r.first).toHaveLength(MAX_LABEL_DRIFT);
});

test("a gear process must be in the gear domain at exactly the gear's level", () => {
  const label = "s0:c3,c4";
  expect(processLabelDrift(7, `system_u:system_r:${GEAR_DOMAIN}:s0:c3,c4`, label)).toEqual([]);
  expect(processLabelDrift(7, `system_u:system_r:${GEAR_DOMAIN}:s0:c1,c2`, label)).toHaveLength(1);
  expect(processLabelDrift(7, "unconfined_u:unconfined_r:unconfined_t:s0:c3,c4", label)).toEqual([
    {
      field: "selinux.process:7",
      expected: `${GEAR_DOMAIN}:s0:c3,c4`,
      actual: "unconfined_u:unconfined_r:unconfined_t:s0:c3,c4",
    },
  ]);
  expect(processLabelDrift(7, null, label)[0].actual).toBe("?");
});

describe("a git push session's processes outside the gear domain (classifyGearProcess)", () => {
  const label = "s0:c3,c4";
  const login = "s0-s0:c0.c1023";
  it("a gear process in the gear domain at the gear's level: no role, no drift", () => {
    expect(classifyGearProcess(7, `unconfined_u:unconfined_r:${GEAR_DOMAIN}:${label}`, null, label)).toEqual({
      role: null,
      drift: [],
    });
  });
  it("the relay: by its domain, whatever it runs", () => {
    const c = `unconfined_u:unconfined_r:geartrain_relay_t:${login}`;
    expect(classifyGearProcess(7, c, "/usr/local/bin/node", label)).toEqual({ role: "relay", drift: [] });
    expect(classifyGearProcess(7, c, null, label)).toEqual({ role: "relay", drift: [] });
  });
  it("sshd's session process: sshd_t running /usr/sbin/sshd", () => {
    const c = `system_u:system_r:sshd_t:${login}`;
    expect(classifyGearProcess(8, c, "/usr/sbin/sshd", label)).toEqual({ role: "ssh-session", drift: [] });
  });
  it("anything else outside the gear domain stays drift", () => {
    const drift = (pid: number, c: string) => ({
      role: null,
      drift: [{ field: `selinux.process:${pid}`, expected: `${GEAR_DOMAIN}:${label}`, actual: c }],
    });
    // another program in sshd's domain, or sshd's domain unread
    const sshd = `system_u:system_r:sshd_t:${login}`;
    expect(classifyGearProcess(9, sshd, "/bin/sh", label)).toEqual(drift(9, sshd));
    expect(classifyGearProcess(9, sshd, "/usr/sbin/sshd (deleted)", label)).toEqual(drift(9, sshd));
    expect(classifyGearProcess(9, sshd, null, label)).toEqual(drift(9, sshd));
    // sshd's program in another domain; the old relay (unconfined_t), a process started by hand
    const unconfined = `unconfined_u:unconfined_r:unconfined_t:${login}`;
    expect(classifyGearProcess(10, unconfined, "/usr/sbin/sshd", label)).toEqual(drift(10, unconfined));
    expect(classifyGearProcess(10, unconfined, "/usr/local/bin/node", label)).toEqual(drift(10, unconfined));
    // the gear domain at another gear's level; an unreadable context
    const other = `system_u:system_r:${GEAR_DOMAIN}:s0:c1,c2`;
    expect(classifyGearProcess(11, other, null, label)).toEqual(drift(11, other));
    expect(classifyGearProcess(12, null, null, label)).toEqual(drift(12, "?"));
    // a type that only starts like the relay's
    const lookalike = `unconfined_u:unconfined_r:geartrain_relay_tx:${login}`;
    expect(classifyGearProcess(13, lookalike, null, label)).toEqual(drift(13, lookalike));
  });
});

test("the module sources are found from the code's own directory and hashed as a version", () => {
  const dir = policySourceDir();
  expect(dir).toBe(path.resolve(__dirname, "../../../node/host/selinux"));
  const a = readPolicySources(dir);
  expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(a.files.te).toMatch(/^policy_module\(geartrain, /);
  expect(a.files.te).toMatch(/mcs_constrained\(geartrain_gear_t\)/);

  const tmp = mkdtempSync(path.join(os.tmpdir(), "gt-selinux-src-"));
  try {
    for (const ext of ["te", "fc", "if"])
      copyFileSync(path.join(dir, `geartrain.${ext}`), path.join(tmp, `geartrain.${ext}`));
    expect(readPolicySources(tmp).hash).toBe(a.hash);
    appendFileSync(path.join(tmp, "geartrain.fc"), "# changed\n");
    expect(readPolicySources(tmp).hash).not.toBe(a.hash);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("installed modules are read from the policy store, at every priority", async () => {
  const store = mkdtempSync(path.join(os.tmpdir(), "gt-selinux-store-"));
  try {
    for (const m of ["100/base", "100/unconfined", "400/geartrain", "400/geartrain_nodes", "disabled/x"])
      await fs.mkdir(path.join(store, "active", "modules", m), { recursive: true });
    expect(await installedModules(store)).toEqual(["base", "geartrain", "geartrain_nodes", "unconfined"]);
    await expect(installedModules(path.join(store, "nothing"))).rejects.toThrow(/selinux-policy-default/);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

test("node labels: each gear's /25 at its level; the rest of loopback and the wildcards above every gear", () => {
  const cil = nodesModuleCil({ firstUid: 1000, maxUid: 1002 });
  const lines = cil.trim().split("\n");
  expect(lines).toHaveLength(1 + 4 + 3);
  expect(lines).toContain(
    "(nodecon (127.1.244.0) (255.255.255.128) (system_u object_r node_t ((s0 (c0 c1000)) (s0 (c0 c1000)))))",
  );
  expect(lines).toContain(
    "(nodecon (127.1.244.128) (255.255.255.128) (system_u object_r node_t ((s0 (c0 c1001)) (s0 (c0 c1001)))))",
  );
  expect(lines).toContain(
    "(nodecon (127.0.0.0) (255.0.0.0) (system_u object_r node_t ((s0) (s0 (range c0 c1023)))))",
  );
  expect(lines).toContain(
    "(nodecon (0.0.0.0) (255.255.255.255) (system_u object_r node_t ((s0) (s0 (range c0 c1023)))))",
  );
  // the default district: 6000 distinct blocks
  const all = nodesModuleCil({ firstUid: 1000, maxUid: 6999 }).trim().split("\n").slice(5);
  expect(new Set(all.map((l) => l.split(" ")[1])).size).toBe(6000);
});

test("the git sshd's port: labelled ssh_port_t unless it is 22 (Debian's); part of the tracked version", () => {
  const district = { firstUid: 1000, maxUid: 1002 };
  const portcon = "(portcon tcp 10022 (system_u object_r ssh_port_t ((s0) (s0))))";
  const plain = nodesModuleCil(district);
  expect(plain).not.toContain("portcon");
  expect(nodesModuleCil(district, null)).toBe(plain);
  expect(nodesModuleCil(district, 22)).toBe(plain);
  const withPort = nodesModuleCil(district, 10022).trim().split("\n");
  expect(withPort.filter((l) => l.startsWith("(portcon"))).toEqual([portcon]);
  expect(withPort).toHaveLength(1 + 4 + 1 + 3);
  expect(() => nodesModuleCil(district, 70000)).toThrow(/not a TCP port/);
  const cfg = { stateDir: "/x", district };
  expect(nodesModuleOf({ ...cfg, selinux: { gitSshPort: 10022 } })).toContain(portcon);
  expect(nodesModuleOf(cfg)).toBe(plain);
  const src = readPolicySources();
  const v = policyVersion(src, cfg);
  expect(policyVersion(src, { ...cfg, selinux: { gitSshPort: null } })).toBe(v);
  expect(policyVersion(src, { ...cfg, selinux: { gitSshPort: 22 } })).toBe(v);
  expect(policyVersion(src, { ...cfg, selinux: { gitSshPort: 10022 } })).not.toBe(v);
  expect(policyVersion(src, { ...cfg, selinux: { gitSshPort: 10023 } })).not.toBe(
    policyVersion(src, { ...cfg, selinux: { gitSshPort: 10022 } }),
  );
});

describe("ensurePolicy tracks the installed version", () => {
  let stateDir: string;
  let cfg: { stateDir: string; district: { firstUid: number; maxUid: number } };
  beforeEach(() => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), "gt-selinux-state-"));
    cfg = { stateDir, district: { firstUid: 1000, maxUid: 1009 } };
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  // the generated module given to the last semodule -i
  let installedCil = "";
  // the launcher's and bin/gear-shell's contexts on the fake host (stat -c %C reads them, chcon sets them)
  let launcherContext = "system_u:object_r:usr_t:s0";
  let relayContext = "system_u:object_r:usr_t:s0";
  function fakeHost(listed: boolean) {
    const calls: string[][] = [];
    rmSync(store(), { recursive: true, force: true });
    for (const m of listed ? ["geartrain", "geartrain_nodes"] : ["geartrain"])
      mkdirSync(path.join(store(), "active", "modules", "400", m), { recursive: true });
    jest.spyOn(exec, "run").mockImplementation(async (argv, opts) => {
      calls.push([...argv]);
      if (argv[0] === "make") {
        await fs.writeFile(path.join(opts!.cwd!, "geartrain.pp"), "pp");
        return { code: 0, stdout: "", stderr: "" };
      }
      if (argv[0] === "stat" && argv[1] === "-c" && argv[2] === "%C") {
        expect([launcherPath(), relayEntryPath()]).toContain(argv[4]);
        const c = argv[4] === launcherPath() ? launcherContext : relayContext;
        return { code: 0, stdout: `${c}\n`, stderr: "" };
      }
      if (argv[0] === "chcon") {
        expect([
          ["-h", "--", LAUNCHER_CONTEXT, launcherPath()],
          ["-h", "--", RELAY_ENTRY_CONTEXT, relayEntryPath()],
        ]).toContainEqual(argv.slice(1));
        if (argv[4] === launcherPath()) launcherContext = LAUNCHER_CONTEXT;
        else relayContext = RELAY_ENTRY_CONTEXT;
        return { code: 0, stdout: "", stderr: "" };
      }
      if (argv[0] === "semodule" && argv[1] === "-i") {
        expect(argv.slice(2).map((a) => path.basename(a))).toEqual([
          "geartrain.pp",
          "-i",
          "geartrain_nodes.cil",
        ]);
        installedCil = await fs.readFile(argv[4], "utf8");
        return { code: 0, stdout: "", stderr: "" };
      }
      throw new Error(`unexpected ${argv.join(" ")}`);
    });
    return calls;
  }
  const store = () => path.join(stateDir, "store");
  const installs = (calls: string[][]) => calls.filter((c) => c[0] === "semodule" && c[1] === "-i").length;

  test("SELinux unavailable: nothing is run", async () => {
    const calls = fakeHost(false);
    expect(await ensurePolicy(cfg, "unavailable", store())).toBeNull();
    expect(calls).toEqual([]);
  });

  test("missing: built and installed, version recorded; then current; another version, district or a removed module reinstalls", async () => {
    const calls = fakeHost(false);
    const first = await ensurePolicy(cfg, "enforcing", store());
    expect(first).toMatchObject({ module: "geartrain", action: "installed" });
    expect(installs(calls)).toBe(1);
    expect((await fs.readFile(recordPath({ stateDir }), "utf8")).trim()).toBe(
      policyVersion(readPolicySources(), cfg),
    );

    jest.restoreAllMocks();
    const calls2 = fakeHost(true);
    expect(await ensurePolicy(cfg, "enforcing", store())).toMatchObject({ action: "current" });
    expect(installs(calls2)).toBe(0);

    // an older Geartrain installed another version
    await fs.writeFile(recordPath({ stateDir }), "0".repeat(64));
    expect(await ensurePolicy(cfg, "permissive", store())).toMatchObject({ action: "installed" });
    expect(installs(calls2)).toBe(1);

    // someone removed it (semodule -r): the record alone does not count
    jest.restoreAllMocks();
    const calls3 = fakeHost(false);
    expect(await ensurePolicy(cfg, "enforcing", store())).toMatchObject({ action: "installed" });
    expect(installs(calls3)).toBe(1);
  });

  test("another git sshd port reinstalls, with the port's label in the generated module", async () => {
    const calls = fakeHost(false);
    await ensurePolicy(cfg, "enforcing", store());
    expect(installedCil).not.toContain("portcon");
    jest.restoreAllMocks();
    const calls2 = fakeHost(true);
    const withPort = { ...cfg, selinux: { gitSshPort: 10022 } };
    expect(await ensurePolicy(withPort, "enforcing", store())).toMatchObject({ action: "installed" });
    expect(installs(calls) + installs(calls2)).toBe(2);
    expect(installedCil).toContain("(portcon tcp 10022 (system_u object_r ssh_port_t ((s0) (s0))))");
    expect(installedCil).toBe(nodesModuleOf(withPort));
    expect(await ensurePolicy(withPort, "enforcing", store())).toMatchObject({ action: "current" });
  });

  test("the launcher and bin/gear-shell: labelled at install; either at another type is not current and is labelled again without a reinstall", async () => {
    launcherContext = "system_u:object_r:usr_t:s0";
    relayContext = "system_u:object_r:usr_t:s0";
    const calls = fakeHost(false);
    await ensurePolicy(cfg, "enforcing", store());
    expect(calls.filter((c) => c[0] === "chcon")).toHaveLength(2);
    expect([launcherContext, relayContext]).toEqual([LAUNCHER_CONTEXT, RELAY_ENTRY_CONTEXT]);

    jest.restoreAllMocks();
    const calls2 = fakeHost(true);
    expect(await policyStatus(cfg, store(), "enforcing")).toMatchObject({
      current: true,
      launcher: { path: launcherPath(), labelled: true },
    });
    // a copy or an unpack without the label (restorecon of another path, cp, tar)
    launcherContext = "system_u:object_r:usr_t:s0";
    expect(await policyStatus(cfg, store(), "enforcing")).toMatchObject({
      installed: true,
      current: false,
      launcher: { labelled: false, context: "system_u:object_r:usr_t:s0" },
    });
    expect(await ensurePolicy(cfg, "enforcing", store())).toMatchObject({ action: "labelled" });
    expect(installs(calls2)).toBe(0);
    expect(await ensurePolicy(cfg, "enforcing", store())).toMatchObject({ action: "current" });
    // the forced command copied without its label: not current, labelled again
    relayContext = "system_u:object_r:usr_t:s0";
    expect(await policyStatus(cfg, store(), "enforcing")).toMatchObject({
      current: false,
      launcher: { labelled: true },
      relayEntry: { path: relayEntryPath(), labelled: false, context: "system_u:object_r:usr_t:s0" },
    });
    expect(await ensurePolicy(cfg, "enforcing", store())).toMatchObject({ action: "labelled" });
    expect(relayContext).toBe(RELAY_ENTRY_CONTEXT);
    expect(installs(calls2)).toBe(0);
    // where SELinux is absent there is no launcher label to check
    expect((await policyStatus(cfg, store(), "unavailable")).launcher).toBeNull();
    expect((await policyStatus(cfg, store(), "unavailable")).relayEntry).toBeNull();
  });
});

// The real compile: the module must build against the installed Debian policy (selinux-policy-dev).
test("the gear module compiles with Debian's devel Makefile", async () => {
  if (!existsSync(DEVEL_MAKEFILE))
    throw new Error(`${DEVEL_MAKEFILE} is missing: run \`apt-get install selinux-policy-dev\``);
  const { dir, pp } = await buildModule(readPolicySources());
  try {
    expect((await fs.stat(pp)).size).toBeGreaterThan(1000);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
