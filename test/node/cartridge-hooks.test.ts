// Cartridge install mechanics on the real host with purpose-made cartridges: hook order and arguments,
// templates rendered in two passes as the gear user, hooks in the gear's cgroup/uid/umask, control actions,
// a failing hook leaving the gear exactly as it was (with the hook's stderr), an install SIGKILLed mid-hook
// undone by the next one, the repository, and the CLI.

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import * as path from "path";
import { CartridgeError } from "../../cartridges/manifest";
import { loopbackAddress } from "../../node/host/addresses";
import { HookError } from "../../node/cartridge/hooks";
import { cartridgeStatus, controlCartridge, installCartridge, removeCartridge } from "../../node";
import { readRecord } from "../../node/cartridge/records";
import { addToRepository, listRepository } from "../../node/cartridge/repository";
import { inspectGear, updateGear } from "../../node/gear/lifecycle";
import { cli, startCli } from "./helpers";
import { gearSnapshot, makeCartridgeNode, waitFor, type CartridgeTestNode } from "./cartridge-helpers";

jest.setTimeout(120_000);

let node: CartridgeTestNode;
let src: string;
/** While this root-owned file exists, the recorder's post_install blocks (the crash test kills it there). */
let holdPostInstall: string;
beforeAll(async () => {
  node = await makeCartridgeNode("chook", 61800);
  holdPostInstall = path.join(node.dir, "hold-post-install");
  src = mkdtempSync("/tmp/gt-test-carts-");
  for (const [name, opts] of Object.entries(FIXTURES)) {
    writeCartridge(path.join(src, name), name, opts, holdPostInstall);
    await addToRepository(node.config, path.join(src, name));
  }
});
afterAll(async () => {
  await node?.cleanup();
  if (src) rmSync(src, { recursive: true, force: true });
});

interface FixtureOptions {
  /** hook that fails with exit 3 */
  readonly failAt?: "setup" | "install" | "post_install";
  /** post_install waits while the hold file exists */
  readonly holdable?: boolean;
}

const FIXTURES: Record<string, FixtureOptions> = {
  recorder: { holdable: true },
  failsetup: { failAt: "setup" },
  failpost: { failAt: "post_install" },
};

/** A cartridge whose hooks record what they see: order, args, uid, umask, cgroup, env, rendered files. */
function writeCartridge(dir: string, name: string, opts: FixtureOptions, holdFile: string): void {
  const short = name.toUpperCase();
  const V = (n: string) => `GEARTRAIN_${short}_${n}`;
  for (const d of ["metadata", "bin", "env", "conf", "template"])
    mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(
    path.join(dir, "metadata/manifest.yml"),
    [
      `Name: ${name}`,
      `Cartridge-Short-Name: ${short}`,
      `Cartridge-Version: "0.0.1"`,
      `Cartridge-Vendor: testing`,
      `Version: "1.0"`,
      `Categories: [service, web_framework]`,
      `Additional-Control-Actions: [threaddump]`,
      `Endpoints:`,
      `  - Private-IP-Name: IP`,
      `    Private-Port-Name: PORT`,
      `    Private-Port: 8080`,
      `    Mappings:`,
      `      - Frontend: ""`,
      `        Backend: ""`,
      `  - Private-IP-Name: ADMIN_IP`,
      `    Private-Port-Name: ADMIN_PORT`,
      `    Private-Port: 9090`,
      "",
    ].join("\n"),
  );
  // pass 1: env template (sees the node's variables); pass 2: conf templates (see pass 1's result)
  writeFileSync(path.join(dir, `env/${V("WHO")}.hbs`), "{{USER}} at {{" + V("IP") + "}}\n");
  writeFileSync(path.join(dir, "env/PLAIN_VALUE"), "plain\n");
  writeFileSync(
    path.join(dir, "conf/app.conf.hbs"),
    `who={{${V("WHO")}}}\nuuid={{GEARTRAIN_GEAR_UUID}}\nraw={{RAW}}\n`,
  );
  writeFileSync(path.join(dir, "template/index.html"), "hello\n");
  const log = `"\${${V("DIR")}}calls.log"`;
  const record = `printf '%s\\n' "$(basename "$0") $*" >>${log}`;
  const fail = (hook: string) =>
    opts.failAt === hook ? `echo "${hook} exploded: disk on fire" >&2\nexit 3\n` : "";
  const script = (hook: string, body: string) => {
    const p = path.join(dir, "bin", hook);
    writeFileSync(p, `#!/bin/bash\nset -euo pipefail\n${record}\n${body}${fail(hook)}`);
    chmodSync(p, 0o755);
  };
  script(
    "setup",
    [
      // what setup sees: pass 1 done, pass 2 not yet; its identity, umask and cgroup
      `printf 'who=%s conf=%s\\n' "\${${V("WHO")}:-unset}" "$([ -e conf/app.conf ] && echo rendered || echo not-yet)" >>${log}`,
      `printf 'id=%s:%s umask=%s\\n' "$(id -u)" "$(id -g)" "$(umask)" >>${log}`,
      `grep -E '(pids|memory):' /proc/self/cgroup | head -1 >>${log}`,
      `printf 'plain=%s mark=%s\\n' "$PLAIN_VALUE" "$GEARTRAIN_CARTRIDGE" >>${log}`,
      // a template made by setup is rendered in pass 2 too
      `echo 'made={{GEARTRAIN_APP_NAME}}' > conf/made.conf.hbs`,
      // files outside the cartridge dir and a process: all must go on failure
      `mkdir -p "\${GEARTRAIN_DATA_DIR}${name}-data" && echo x > "\${GEARTRAIN_DATA_DIR}${name}-data/f"`,
      `echo junk > "\${GEARTRAIN_LOG_DIR}${name}.log"`,
      `(exec setsid sleep 300 </dev/null >/dev/null 2>&1 &)`,
      "",
    ].join("\n"),
  );
  script("install", `printf 'conf=%s\\n' "$(tr '\\n' ' ' < conf/app.conf)" >>${log}\n`);
  script(
    "control",
    [
      `case "$1" in`,
      `  start) (exec setsid sleep 301 </dev/null >/dev/null 2>&1 &) ; touch "\${${V("DIR")}}running" ;;`,
      `  stop) rm -f "\${${V("DIR")}}running" ;;`,
      `  status) [ -f "\${${V("DIR")}}running" ] || exit 1 ;;`,
      `  threaddump) echo "dump $2" ;;`,
      `  *) ;;`,
      `esac`,
      "",
    ].join("\n"),
  );
  if (!/^[A-Za-z0-9/._-]+$/.test(holdFile)) throw new Error(`hold file path ${holdFile} needs quoting`);
  script("post_install", opts.holdable ? `while [ -e ${holdFile} ]; do sleep 0.1; done\n` : "");
  script("teardown", "");
}

const calls = (home: string, dir: string) => readFileSync(path.join(home, dir, "calls.log"), "utf8");

test("hooks run in the format's order as the gear; templates render in two passes as the gear user", async () => {
  const g = await node.gear(1, "recorderapp");
  await updateGear(node.ctx, { uuid: g.uuid, env: { RAW: "<b>&amp;</b>" } });
  const res = await installCartridge(node.ctx, g.uuid, { name: "recorder" }, { frontend: node.frontend });
  expect(res.steps).toEqual([
    "copy",
    "env",
    "render-env",
    "setup",
    "render",
    "install",
    "repo",
    "start",
    "routes",
    "post_install",
  ]);
  const ip = loopbackAddress(g.uid, 1);
  const adminIp = loopbackAddress(g.uid, 2);
  const lines = calls(g.home, "recorder").trim().split("\n");
  expect(lines[0]).toBe("setup --version 1.0");
  expect(lines[1]).toBe(`who=${g.uuid} at ${ip} conf=not-yet`);
  expect(lines[2]).toBe(`id=${g.uid}:${g.uid} umask=0077`);
  expect(lines[3]).toContain(g.uuid); // the gear's cgroup
  expect(lines[4]).toBe("plain=plain mark=recorder");
  expect(lines[5]).toBe("install --version 1.0");
  expect(lines[6]).toBe(`conf=who=${g.uuid} at ${ip} uuid=${g.uuid} raw=<b>&amp;</b> `);
  // then the status check whose result the install returns
  expect(lines.slice(7)).toEqual(["control start", "post_install --version 1.0", "control status"]);

  // rendered files are the gear's (written by the gear, umask 077), the .hbs are gone
  for (const f of ["env/GEARTRAIN_RECORDER_WHO", "conf/app.conf", "conf/made.conf"]) {
    const st = statSync(path.join(g.home, "recorder", f));
    expect([f, st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([f, g.uid, g.uid, "600"]);
    expect(existsSync(path.join(g.home, "recorder", `${f}.hbs`))).toBe(false);
  }
  expect(readFileSync(path.join(g.home, "recorder/conf/made.conf"), "utf8")).toBe("made=recorderapp\n");
  // two private IPs, lowest host ids first
  expect(readFileSync(path.join(g.home, ".env/GEARTRAIN_RECORDER_ADMIN_IP"), "utf8")).toBe(adminIp);
  expect(res.env).toEqual([
    "GEARTRAIN_PRIMARY_CARTRIDGE_DIR",
    "GEARTRAIN_RECORDER_ADMIN_IP",
    "GEARTRAIN_RECORDER_ADMIN_PORT",
    "GEARTRAIN_RECORDER_DIR",
    "GEARTRAIN_RECORDER_IDENT",
    "GEARTRAIN_RECORDER_IP",
    "GEARTRAIN_RECORDER_PORT",
  ]);
  // the starter app went into the repo, owned by the gear
  expect(statSync(path.join(g.home, "app-root/runtime/repo/index.html")).uid).toBe(g.uid);

  // control: standard and additional actions with arguments; unknown actions refused
  const dump = await controlCartridge(node.ctx, g.uuid, "recorder", "threaddump", ["now"], {
    frontend: node.frontend,
  });
  expect(dump).toMatchObject({ ok: true, exitCode: 0, stdout: "dump now\n" });
  await expect(controlCartridge(node.ctx, g.uuid, "recorder", "explode", [])).rejects.toThrow(
    /unknown action "explode"/,
  );
  await expect(controlCartridge(node.ctx, g.uuid, "recorder", "start; rm -rf /", [])).rejects.toThrow(
    /must match/,
  );
  await expect(controlCartridge(node.ctx, g.uuid, "nothere", "start", [])).rejects.toThrow(
    /no installed cartridge/,
  );
  expect((await cartridgeStatus(node.ctx, g.uuid))[0]).toMatchObject({ name: "recorder", status: "started" });

  // removal runs stop then teardown, kills what the cartridge started, removes what its install created
  const home = g.home;
  const rm = await removeCartridge(node.ctx, g.uuid, "recorder", { frontend: node.frontend });
  expect(rm.removed).toBe(true);
  expect(existsSync(path.join(home, "recorder"))).toBe(false);
  expect(existsSync(path.join(home, "app-root/data/recorder-data"))).toBe(false);
  expect(existsSync(path.join(home, "app-root/runtime/repo/index.html"))).toBe(false);
  expect(existsSync(path.join(home, ".env/GEARTRAIN_RECORDER_IP"))).toBe(false);
  const ins = await inspectGear(node.ctx, g.uuid);
  expect(ins.processes).toEqual([]);
  expect(ins.drift).toEqual([]);
  expect(await node.frontend.readGearFrontend(node.ctx, g.uuid)).toBeNull();
});

test.each([
  ["failsetup", "bin/setup", "setup"],
  ["failpost", "bin/post_install", "post_install"],
])(
  "a failing %s leaves the gear exactly as it was, with the hook's stderr in the error",
  async (name, hook, word) => {
    const g = await node.gear(name === "failsetup" ? 2 : 3, name);
    // the gear already has a route (e.g. from an alias): it must come back unchanged
    const previous = {
      gearUuid: g.uuid,
      hostnames: [`${name}-dev.example.com`, `www.${name}.example.org`],
      routes: [{ path: "/old", backend: { ip: loopbackAddress(g.uid, 100), port: 1 } }],
    };
    await node.frontend.setGearFrontend(node.ctx, previous);
    const before = await gearSnapshot(node, g);
    const err = await installCartridge(node.ctx, g.uuid, { name }, { frontend: node.frontend }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(HookError);
    expect(err.message).toBe(`cartridge ${name}: ${hook} failed (exit 3): ${word} exploded: disk on fire`);
    expect(await gearSnapshot(node, g)).toEqual(before);
    expect(await node.frontend.readGearFrontend(node.ctx, g.uuid)).toEqual(previous);
    expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([]);
  },
);

test("an install killed (SIGKILL) during post_install is undone by the next install, then completed", async () => {
  const g = await node.gear(5, "crashapp");
  const before = await gearSnapshot(node, g);
  // the CLI installs in a process group of its own; its post_install hook blocks until we kill them all
  writeFileSync(holdPostInstall, "");
  let run: ReturnType<typeof startCli> | undefined;
  try {
    run = startCli(node, ["cartridge", "install", g.uuid, "recorder"]);
    await waitFor(
      "the install to run post_install",
      async () =>
        (await readRecord(g.home, "recorder"))?.step === "post_install" &&
        /^post_install /m.test(readFileSync(path.join(g.home, "recorder/calls.log"), "utf8")),
      60_000,
    );
    process.kill(-run.pid, "SIGKILL");
    expect((await run.result).signal).toBe("SIGKILL");
  } finally {
    rmSync(holdPostInstall, { force: true });
    if (run) await run.result.then(() => undefined); // never leave it running, whatever failed above
  }
  // what the kill left: the record still says "installing" at post_install, the started processes run
  expect(await readRecord(g.home, "recorder")).toMatchObject({ phase: "installing", step: "post_install" });
  expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([
    { field: "cartridge:recorder.phase", expected: "installed", actual: "installing" },
  ]);
  const again = await installCartridge(node.ctx, g.uuid, { name: "recorder" }, { frontend: node.frontend });
  expect(again.changed).toBe(true);
  // the half install was undone first: one setup in the log of the fresh copy, one sleeper per kind
  expect(calls(g.home, "recorder").match(/^setup /gm)).toHaveLength(1);
  const sleepers = (await inspectGear(node.ctx, g.uuid)).processes.filter((p) => p.comm === "sleep");
  expect(sleepers).toHaveLength(2);
  expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([]);
  await removeCartridge(node.ctx, g.uuid, "recorder", { frontend: node.frontend });
  expect(await gearSnapshot(node, g)).toEqual(before);
});

test("the repository: checked on add, idempotent, immutable per version unless forced", async () => {
  const st = statSync(node.config.stateDir);
  expect((st.mode & 0o777).toString(8)).toBe("711");
  const list = await listRepository(node.config);
  expect(list.problems).toEqual([]);
  expect(list.cartridges.map((c) => `${c.vendor}-${c.name} ${c.cartridgeVersion}`).sort()).toEqual([
    "geartrain-cron 0.1.0",
    "geartrain-nodejs 0.1.0",
    "geartrain-postgresql 0.1.0",
    "geartrain-python 0.1.0",
    "geartrain-static 0.1.0",
    "testing-failpost 0.0.1",
    "testing-failsetup 0.0.1",
    "testing-recorder 0.0.1",
  ]);
  expect((await addToRepository(node.config, path.join(src, "recorder"))).changed).toBe(false);
  writeFileSync(path.join(src, "recorder/env/PLAIN_VALUE"), "changed\n");
  await expect(addToRepository(node.config, path.join(src, "recorder"))).rejects.toThrow(
    /raise Cartridge-Version/,
  );
  expect((await addToRepository(node.config, path.join(src, "recorder"), { force: true })).changed).toBe(
    true,
  );
  const bad = path.join(src, "bad");
  mkdirSync(path.join(bad, "metadata"), { recursive: true });
  writeFileSync(path.join(bad, "metadata/manifest.yml"), "Name: bad\n");
  const err = await addToRepository(node.config, bad).catch((e) => e);
  expect(err).toBeInstanceOf(CartridgeError);
  expect(err.message).toMatch(/Cartridge-Short-Name: missing/);
  await expect(installCartridge(node.ctx, "0".repeat(32), { name: "nope" })).rejects.toThrow(
    /no cartridge nope/,
  );
  await expect(installCartridge(node.ctx, "0".repeat(32), { name: "../x" })).rejects.toThrow(/invalid name/);
});

test("the CLI: repo list, install, status, control, remove, errors and exit codes", async () => {
  const g = await node.gear(4, "cliapp");
  const env = {};
  const list = await cli(node, ["cartridge", "repo", "list"], undefined, env);
  expect(list.code).toBe(0);
  expect((list.json as { cartridges: unknown[] }).cartridges.length).toBeGreaterThanOrEqual(8);
  const inst = await cli(node, ["cartridge", "install", g.uuid, "static"], undefined, env);
  expect([inst.code, inst.stderr]).toEqual([0, ""]);
  expect(inst.json).toMatchObject({
    changed: true,
    cartridge: { name: "static", status: "started" },
    routes: { status: "set", hostnames: ["cliapp-dev.example.com"] },
  });
  // the CLI used the node's frontend of its config: the private nginx
  const page = await node.viaNginx("cliapp-dev.example.com", "/");
  expect(page.status).toBe(200);
  expect(page.body).toMatch(/static site/);
  const status = await cli(node, ["cartridge", "status", g.uuid, "static"], undefined, env);
  expect(status.json).toEqual([expect.objectContaining({ name: "static", status: "started" })]);
  const stop = await cli(node, ["cartridge", "control", g.uuid, "static", "stop"], undefined, env);
  expect(stop.json).toMatchObject({ ok: true, action: "stop" });
  const st2 = await cli(node, ["cartridge", "control", g.uuid, "static", "status"], undefined, env);
  expect([st2.code, (st2.json as { exitCode: number }).exitCode]).toEqual([1, 1]);
  const bad = await cli(node, ["cartridge", "control", g.uuid, "static", "Bad!"], undefined, env);
  expect(bad.code).toBe(3);
  const missing = await cli(node, ["cartridge", "install", g.uuid, "nosuch"], undefined, env);
  expect(missing.code).toBe(4);
  const fail = await cli(node, ["cartridge", "install", g.uuid, "failsetup"], undefined, env);
  expect(fail.code).toBe(1);
  expect(fail.json).toMatchObject({ error: { kind: "hook_failed", hook: "bin/setup", exitCode: 3 } });
  expect(fail.stderr).toContain("setup exploded: disk on fire");
  const rm = await cli(node, ["cartridge", "remove", g.uuid, "static"], undefined, env);
  expect([rm.code, (rm.json as { removed: boolean }).removed]).toEqual([0, true]);
  const usage = await cli(node, ["cartridge", "frobnicate"], undefined, env);
  expect(usage.code).toBe(2);
  const cron = await cli(node, ["cartridge", "cron-file", "--bin", "/opt/gt/bin/geartrain"], undefined, env);
  expect(cron.stdout).toContain(`GEARTRAIN_NODE_CONFIG=${node.configPath}\n`);
  expect(cron.stdout).toContain("root /opt/gt/bin/geartrain node cartridge cron-run hourly");
});
