// The checks of the real-kernel tier, run inside the guest (SELinux enforcing, cgroup v2 only) as root by
// run.sh, with the project's own node code from /opt/geartrain/project/dist. Plain JavaScript: the guest has
// Node and the compiled project, no TypeScript. Each check appends {name, ok, detail, ms} to results.json on
// the data disk as soon as it is done, so a crash still leaves what was measured; the host test
// (selinux-cgroup2.test.ts) turns each into a jest test.
"use strict";
const { execFileSync, spawnSync } = require("child_process");
const fs = require("fs");
const http = require("http");
const path = require("path");

const DATA = "/opt/geartrain";
const OUT = process.env.GT_RESULTS || "/run/results.json";
const P = path.join(DATA, "project", "dist");
const need = (m) => require(path.join(P, m));
const node = need("node/index.js");
const { ensurePolicy, policyStatus, launcherLabel, LAUNCHER_TYPE, RELAY_ENTRY_TYPE } = need(
  "node/host/selinux/policy.js",
);
const label = need("node/host/selinux/label.js");
const { spawnInGear, runInGear } = need("node/gear/run-in-gear.js");
const { addToRepository } = need("node/cartridge/repository.js");
const { loopbackAddress } = need("node/host/addresses.js");
const { initAppRepository } = need("node/deploy/repo.js");
const { addSshKey } = need("node/deploy/ssh-keys.js");
const { GEAR_GIT_SSHD_OPTIONS, NODE_SSHD_EXTRA } = need("components/nodehost/render.js");
const LAUNCHER = path.join(DATA, "project", "bin", "geartrain");

const results = [];
function save() {
  fs.writeFileSync(OUT, JSON.stringify(results, null, 1));
}
// monotonic: the cron check sets the clock
const now = () => Number(process.hrtime.bigint() / 1000000n);
async function check(name, fn) {
  const t0 = now();
  let ok = false;
  let detail;
  try {
    detail = await fn();
    ok = true;
  } catch (e) {
    detail = `${e && e.stack ? e.stack : e}`;
  }
  results.push({
    name,
    ok,
    detail: typeof detail === "string" ? detail : JSON.stringify(detail),
    ms: now() - t0,
  });
  save();
  console.log(
    `geartrain-vm: check ${ok ? "ok  " : "FAIL"} ${name} (${now() - t0} ms)${ok ? "" : `\n${detail}`}`,
  );
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function sh(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 60_000, ...opts });
  return { code: r.status, signal: r.signal, stdout: r.stdout || "", stderr: r.stderr || "" };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function kmsg() {
  // AVC denials are in the kernel log (no auditd)
  return sh(["dmesg"]).stdout;
}
function avcsSince(mark) {
  return kmsg()
    .split("\n")
    .slice(mark)
    .filter((l) => l.includes("avc:") && l.includes("denied"));
}
const kmsgMark = () => kmsg().split("\n").length - 1;
// The kernel prints audit records rate-limited (10 per 5 s, "kauditd_printk_skb: N callbacks suppressed"; no
// auditd here): a check that looks for its AVC waits for a fresh window first.
const freshAuditWindow = () => sleep(5500);
function httpGet(ip, port, urlPath = "/") {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: ip, port, path: urlPath, timeout: 20_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}
// every process of `uid`: pid, parent, command line and SELinux context, from /proc (read by root)
function uidProcesses(uid) {
  const out = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/status`, "utf8");
      if (Number(/^Uid:\s+(\d+)/m.exec(st)[1]) !== uid) continue;
      out.push({
        pid: Number(d),
        ppid: Number(/^PPid:\s+(\d+)/m.exec(st)[1]),
        cmdline: fs.readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " "),
        context: fs.readFileSync(`/proc/${d}/attr/current`, "utf8").replace(/\0+$/, "").trim(),
      });
    } catch {
      /* gone */
    }
  }
  return out;
}
const uuidOf = (n) => n.toString(16).padStart(32, "0");

async function main() {
  const configPath = "/etc/geartrain/node.json";
  fs.mkdirSync(path.dirname(configPath), { recursive: true });
  // the image's node config (build-image.sh) gives the gear git sshd's port, which its module labels
  const imageDoc = JSON.parse(fs.readFileSync(configPath, "utf8"));
  const doc = {
    selinux: imageDoc.selinux,
    disk: { mode: "none" },
    network: { isolation: "none" },
    profiles: {
      tiny: {
        memoryBytes: 48 * 2 ** 20,
        swapBytes: 0,
        pids: 40,
        cpuWeight: 25,
        cpuMax: null,
        diskBytes: 2 ** 30,
        diskFiles: 10000,
      },
    },
  };
  fs.writeFileSync(configPath, JSON.stringify(doc));
  fs.chmodSync(configPath, 0o644);
  const config = node.resolveConfig(doc);
  const ctx = await node.makeContext(config);
  const A = { uuid: uuidOf(0xa), uid: 1001, app: "appa", namespace: "dev" };
  const B = { uuid: uuidOf(0xb), uid: 1002, app: "appb", namespace: "dev" };
  const T = { uuid: uuidOf(0xc), uid: 1003, app: "appt", namespace: "dev", profile: "tiny" };
  const LA = node.mcsLabel(A.uid);
  const LB = node.mcsLabel(B.uid);
  const ctxOf = (pid) => label.processContext(pid);

  await check("environment: SELinux enforcing, cgroup v2 only, gear module installed", async () => {
    eq(ctx.selinux, "enforcing", "selinux");
    eq(ctx.cgroup.version, "v2", "cgroup version");
    assert(!fs.readFileSync("/proc/mounts", "utf8").includes(" cgroup "), "a cgroup v1 hierarchy is mounted");
    // the image has the modules at this version; the launcher of this run's project is not labelled yet
    const before = await policyStatus(config);
    eq(
      [before.installed, before.installedHash === before.hash],
      [true, true],
      "modules installed at this version",
    );
    eq(before.launcher && before.launcher.labelled, false, "launcher labelled before the node labelled it");
    eq(before.relayEntry && before.relayEntry.labelled, false, "bin/gear-shell labelled before the node");
    assert(!before.current, "policy current with an unlabelled launcher");
    const ensured = await ensurePolicy(config, ctx.selinux);
    eq(ensured.action, "labelled", "ensurePolicy");
    const st = await policyStatus(config);
    assert(st.current, `gear module not current: ${JSON.stringify(st)}`);
    eq(label.parseContext(st.launcher.context).type, LAUNCHER_TYPE, "launcher type");
    eq(label.parseContext(st.relayEntry.context).type, RELAY_ENTRY_TYPE, "bin/gear-shell type");
    return {
      runner: await label.currentContext(),
      launcher: st.launcher.context,
      relayEntry: st.relayEntry.context,
      policy: st.hash.slice(0, 12),
      kernel: fs.readFileSync("/proc/version", "utf8").trim(),
    };
  });

  await check("gear create/inspect idempotent: home at the gear's file context, no drift", async () => {
    const r1 = await node.createGear(ctx, A);
    const r2 = await node.createGear(ctx, A);
    await node.createGear(ctx, B);
    const st = await node.inspectGear(ctx, A.uuid);
    eq(st.drift, [], "drift of A");
    eq(st.selinux, { status: "enforcing", label: LA, applied: LA, mislabelled: 0 }, "selinux state");
    const want = label.gearFileContext(LA);
    for (const p of ["", ".env", ".env/GEARTRAIN_GEAR_UUID", "app-root/data", "git"])
      eq(await label.readLabel(path.join(st.home, p)), want, `label of ~/${p}`);
    eq((await node.inspectGear(ctx, B.uuid)).selinux.applied, LB, "B's label");
    return { created: r1.changed ?? r1, again: r2.changed ?? r2, label: LA };
  });

  await check("runInGear (the hook path) runs as the gear in the gear domain at its level", async () => {
    const r = await runInGear(ctx, A.uuid, ["/bin/sh", "-c", "id -u; cat /proc/self/attr/current"]);
    eq(r.code, 0, `exit (stderr ${r.stderr})`);
    const [uid, c] = r.stdout.trim().split("\n");
    eq(uid, String(A.uid), "uid");
    const p = label.parseContext(c);
    eq([p.type, p.range], [label.GEAR_DOMAIN, LA], "context");
    // and Node itself (V8 needs execmem) in the gear domain
    const n = await runInGear(ctx, A.uuid, [
      process.execPath,
      "-e",
      "console.log(require('fs').readFileSync('/proc/self/attr/current','utf8'))",
    ]);
    eq(n.code, 0, `node in the gear domain (signal ${n.signal}, stderr ${n.stderr})`);
    return { shell: c, node: n.stdout.trim().replace(/\0/g, "") };
  });

  await check("MCS: gear B cannot read gear A's 0777 file (AVC denied), A can", async () => {
    const f = "/tmp/gt-vm-a-secret";
    const w = await runInGear(ctx, A.uuid, [
      "/bin/sh",
      "-c",
      `echo secret-of-a > ${f} && chmod 0777 ${f} && cat /proc/self/attr/current`,
    ]);
    eq(w.code, 0, `A writes (stderr ${w.stderr})`);
    const fctx = await label.readLabel(f);
    eq(label.rangeOf(fctx), LA, "the file carries A's level");
    // a file with the gear file type at A's level, reachable by B through 0777 dirs
    const d = "/tmp/gt-vm-a-dir";
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(`${d}/f`, "home-of-a\n");
    fs.chmodSync(d, 0o777);
    fs.chmodSync(`${d}/f`, 0o777);
    execFileSync("chcon", ["-R", label.gearFileContext(LA), d]);
    const ownRead = await runInGear(ctx, A.uuid, ["/bin/cat", f, `${d}/f`]);
    eq(ownRead.code, 0, `A reads its own (stderr ${ownRead.stderr})`);
    await freshAuditWindow();
    const mark = kmsgMark();
    const b1 = await runInGear(ctx, B.uuid, ["/bin/cat", f]);
    const b2 = await runInGear(ctx, B.uuid, ["/bin/cat", `${d}/f`]);
    assert(
      b1.code !== 0 && /Permission denied/.test(b1.stderr),
      `B read A's tmp file: ${JSON.stringify(b1)}`,
    );
    assert(
      b2.code !== 0 && /Permission denied/.test(b2.stderr),
      `B read A's gear file: ${JSON.stringify(b2)}`,
    );
    await sleep(200);
    const avcs = avcsSince(mark).filter((l) => l.includes(LB) && l.includes(LA));
    assert(avcs.length > 0, `no AVC denial of B (${LB}) on A (${LA}) in the kernel log`);
    fs.rmSync(d, { recursive: true, force: true });
    return { avc: avcs[0] };
  });

  await check(
    "MCS: a process at gear B's level cannot signal or ptrace gear A's processes, even as A's uid",
    async () => {
      const child = await spawnInGear(ctx, A.uuid, ["/bin/sleep", "300"], { stdio: "ignore" });
      const pid = child.pid;
      // the helper (perl) execs sleep after joining the cgroup and dropping ids: wait for the gear domain
      let c = await ctxOf(pid);
      for (let i = 0; i < 100 && !c.includes(label.GEAR_DOMAIN); i++) {
        await sleep(100);
        c = await ctxOf(pid);
      }
      eq(label.rangeOf(c), LA, "A's sleep level");
      const ptrace =
        "import ctypes,sys\nl=ctypes.CDLL(None,use_errno=True)\nr=l.ptrace(16,int(sys.argv[1]),0,0)\nprint(r, ctypes.get_errno())";
      // stdio sockets at s0, as the node makes them for gear processes (else the output is lost to MCS)
      const runner = await label.currentContext();
      const as = (lvl, argv) =>
        label.withSocketsAtS0(runner, () =>
          sh([
            "setpriv",
            `--reuid=${A.uid}`,
            `--regid=${A.uid}`,
            "--clear-groups",
            "runcon",
            "-t",
            label.GEAR_DOMAIN,
            "-l",
            lvl,
            ...argv,
          ]),
        );
      await freshAuditWindow();
      const mark = kmsgMark();
      const sigB = as(LB, ["kill", "-CONT", String(pid)]);
      const ptB = as(LB, ["python3", "-c", ptrace, String(pid)]);
      const denied = avcsSince(mark);
      // controls: the same uid at A's own level may (DAC alone would let B's level through too)
      const sigA = as(LA, ["kill", "-CONT", String(pid)]);
      assert(sigB.code !== 0, `signal from B's level went through: ${JSON.stringify(sigB)}`);
      assert(ptB.stdout.trim().startsWith("-1"), `ptrace from B's level: ${JSON.stringify(ptB)}`);
      eq(sigA.code, 0, `signal from A's level (control) ${JSON.stringify(sigA)}`);
      assert(
        denied.some((l) => /denied\s+\{ signal \}/.test(l)),
        `no signal AVC: ${denied.join("\n")}`,
      );
      assert(
        denied.some((l) => /denied\s+\{ ptrace \}/.test(l)),
        `no ptrace AVC: ${denied.join("\n")}`,
      );
      // and from gear B itself (other uid: DAC refuses first)
      const sigGearB = await runInGear(ctx, B.uuid, ["/bin/kill", "-CONT", String(pid)]);
      assert(sigGearB.code !== 0, "gear B signalled A");
      child.kill("SIGKILL");
      return { signal: sigB.stderr.trim(), ptrace: ptB.stdout.trim(), avcs: denied.slice(0, 2) };
    },
  );

  await check(
    "binding: a gear binds only its own loopback block (SELinux node_bind), root binds anywhere",
    async () => {
      const bindPy =
        "import socket,sys\ns=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\ntry:\n s.bind((sys.argv[1], int(sys.argv[2]))); print('bound')\nexcept OSError as e:\n print('error', e.errno)";
      const tryBind = async (g, ip, port) =>
        (await runInGear(ctx, g.uuid, ["python3", "-c", bindPy, ip, String(port)])).stdout.trim();
      const ownIp = loopbackAddress(A.uid, 2);
      const otherIp = loopbackAddress(B.uid, 2);
      await freshAuditWindow();
      const mark = kmsgMark();
      const res = {
        own: await tryBind(A, ownIp, 40001),
        other: await tryBind(A, otherIp, 40001),
        localhost: await tryBind(A, "127.0.0.1", 40002),
        wildcard: await tryBind(A, "0.0.0.0", 40003),
        wildcard6: await tryBind(A, "::", 40004),
        root: sh(["python3", "-c", bindPy, otherIp, "40005"]).stdout.trim(),
      };
      await sleep(200);
      eq(
        res,
        {
          own: "bound",
          other: "error 13",
          localhost: "error 13",
          wildcard: "error 13",
          wildcard6: "error 13",
          root: "bound",
        },
        "bind results",
      );
      const avcs = avcsSince(mark).filter((l) => /denied\s+\{ node_bind \}/.test(l));
      assert(avcs.length >= 1, "no node_bind AVC in the kernel log");
      return { ...res, avc: avcs[0] };
    },
  );

  await check(
    "cartridge static installed and served under enforcing; hook and app processes in the gear domain",
    async () => {
      await addToRepository(config, path.join(DATA, "project", "cartridges", "static"));
      const res = await node.installCartridge(ctx, A.uuid, { name: "static" }, { frontend: null });
      eq(res.cartridge.status, "started", "status");
      const ip = loopbackAddress(A.uid, 1);
      const page = await httpGet(ip, 8080, "/");
      eq(page.status, 200, "HTTP status");
      assert(/static/i.test(page.body), "page");
      const st = await node.inspectGear(ctx, A.uuid);
      eq(st.drift, [], "drift after install");
      assert(st.processes.length > 0, "no app process");
      for (const p of st.processes)
        eq(
          [label.parseContext(p.context).type, label.rangeOf(p.context)],
          [label.GEAR_DOMAIN, LA],
          `process ${p.pid} ${p.comm}`,
        );
      return { processes: st.processes.map((p) => `${p.comm} ${p.context}`) };
    },
  );

  await check(
    "cron path: Debian's cron daemon runs the cron.d line; cron-run (geartrain_node_t) runs the gear's job in the gear domain",
    async () => {
      await addToRepository(config, path.join(DATA, "project", "cartridges", "cron"));
      const res = await node.installCartridge(ctx, A.uuid, { name: "cron" }, { frontend: null });
      eq(res.cartridge.status, "started", "cron status");
      const home = path.join(config.gearBaseDir, A.uuid);
      const jobs = `${home}/app-root/runtime/repo/.geartrain/cron/minutely`;
      const w = await runInGear(ctx, A.uuid, [
        "/bin/sh",
        "-c",
        `mkdir -p ${jobs} && printf '#!/bin/sh\\ncat /proc/self/attr/current > $HOME/app-root/data/cron-ctx\\n' > ${jobs}/tick && chmod 0700 ${jobs}/tick`,
      ]);
      eq(w.code, 0, `job written (stderr ${w.stderr})`);
      // the node's own /etc/cron.d file, and cron started as init starts it (initrc_t: it enters crond_t)
      const file = sh([process.execPath, LAUNCHER, "node", "cartridge", "cron-file"]);
      eq(file.code, 0, `cron-file (stderr ${file.stderr})`);
      assert(file.stdout.includes(`root ${LAUNCHER} node cartridge cron-run minutely`), file.stdout);
      fs.writeFileSync("/etc/cron.d/geartrain", file.stdout, { mode: 0o644 });
      fs.writeFileSync("/etc/init.d/gt-vm-cron", "#!/bin/sh\nexec /usr/sbin/cron\n", { mode: 0o755 });
      sh(["restorecon", "/etc/cron.d/geartrain", "/etc/init.d/gt-vm-cron"]);
      // ten seconds before a minute (cron must be up by then, Node is slow here): cron runs the minutely
      // line at the next one
      const t = new Date();
      t.setSeconds(50, 0);
      t.setMinutes(t.getMinutes() + 1);
      eq(sh(["date", "-s", t.toISOString()]).code, 0, "date -s");
      const started = sh(["runcon", "system_u:system_r:initrc_t:s0-s0:c0.c1023", "/etc/init.d/gt-vm-cron"]);
      eq(started.code, 0, `cron started (stderr ${started.stderr})`);
      const out = path.join(home, "app-root", "data", "cron-ctx");
      let crond = null;
      try {
        // the daemon writes its pid file after it forks
        const pidOf = () => Number(fs.readFileSync("/run/crond.pid", "utf8").trim() || "0");
        for (let i = 0; i < 100 && !crond; i++) {
          crond = fs.existsSync("/run/crond.pid") && pidOf() > 0 ? await ctxOf(pidOf()) : null;
          if (!crond) await sleep(100);
        }
        assert(crond, "cron did not start (no /run/crond.pid)");
        eq(label.parseContext(crond).type, "crond_t", "cron's domain");
        for (let i = 0; i < 900 && !fs.existsSync(out); i++) await sleep(100);
        assert(fs.existsSync(out), `cron did not run the job within 90 s (cron ${crond})`);
        await sleep(300);
      } finally {
        try {
          process.kill(Number(fs.readFileSync("/run/crond.pid", "utf8")), "SIGTERM");
        } catch {}
        fs.rmSync("/etc/cron.d/geartrain", { force: true });
      }
      const got = fs.readFileSync(out, "utf8").replace(/\0/g, "").trim();
      const p = label.parseContext(got);
      eq([p.type, p.range], [label.GEAR_DOMAIN, LA], "the job's context");
      return { crond, launcher: (await launcherLabel(LAUNCHER)).context, job: got };
    },
  );

  await check(
    "git push over sshd on the node's git port (not 22, labelled ssh_port_t by the module): the forced command's gear-domain stage, git, its hooks and the build run in the gear domain at the gear's level; from the session B cannot read A's 0777 file (AVC), A cannot read what the session wrote; the relay stage in its own domain, which the gear cannot signal (AVC); inspect and the node check clean mid-push",
    async () => {
      // gear B's repository, a client key, the node's sshd lines and PAM service (components/nodehost)
      const configPath = "/etc/geartrain/node.json";
      const tmpl = path.join(DATA, "git-template");
      fs.mkdirSync(tmpl, { recursive: true });
      fs.writeFileSync(path.join(tmpl, "index.html"), "hello\n", { mode: 0o644 });
      await initAppRepository(ctx, B.uuid, tmpl);
      const cli = "/root/gt-vm-git";
      fs.mkdirSync(cli, { recursive: true, mode: 0o700 });
      const key = path.join(cli, "id");
      eq(sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]).code, 0, "ssh-keygen");
      const k = await addSshKey(
        ctx,
        B.uuid,
        { key: fs.readFileSync(`${key}.pub`, "utf8"), name: "vm" },
        { configPath },
      );
      const service = "geartrain-vm-sshd";
      fs.writeFileSync(
        `/etc/pam.d/${service}`,
        `@include sshd\nsession required pam_exec.so quiet ${process.execPath} ${LAUNCHER} node gear-pam-attach --config ${configPath}\n`,
      );
      // sshd_t may bind only ssh_port_t ports: the node's git port (not 22, as a NodeHost's gitSsh.port) is
      // one because the node's generated module labels it (selinux.gitSshPort); sshd could not bind it else
      const port = config.selinux.gitSshPort;
      assert(
        Number.isInteger(port) && port !== 22,
        `the image's gitSshPort ${port} is not a port other than 22`,
      );
      fs.writeFileSync(
        "/etc/ssh/geartrain-vm-sshd_config",
        [
          `Port ${port}`,
          "ListenAddress 127.0.0.1",
          "HostKey /etc/ssh/ssh_host_ed25519_key",
          "PidFile /run/geartrain-vm-sshd.pid",
          "LogLevel VERBOSE",
          ...GEAR_GIT_SSHD_OPTIONS,
          ...NODE_SSHD_EXTRA,
          "",
        ].join("\n"),
      );
      // sshd under the PAM service's name (OpenSSH's PAM service is its program name), started as init
      // starts a daemon: from initrc_t the exec of sshd_exec_t enters sshd_t
      fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
      fs.rmSync(`/usr/local/sbin/${service}`, { force: true });
      fs.symlinkSync("/usr/sbin/sshd", `/usr/local/sbin/${service}`);
      fs.writeFileSync(
        "/etc/init.d/geartrain-vm-sshd",
        `#!/bin/sh\nexec /usr/local/sbin/${service} -E /run/geartrain-vm-sshd.log -f /etc/ssh/geartrain-vm-sshd_config "$@"\n`,
        { mode: 0o755 },
      );
      sh([
        "restorecon",
        "-R",
        "/etc/ssh",
        `/etc/pam.d/${service}`,
        "/etc/init.d/geartrain-vm-sshd",
        "/run/sshd",
      ]);
      // the control: the same sshd on a port the module does not label (10023: Debian's postgrey_port_t; -p
      // replaces the config's Port) cannot bind it
      const unlabelled = port + 1;
      await freshAuditWindow();
      const mark = kmsgMark();
      const refused = sh(
        [
          "runcon",
          "system_u:system_r:initrc_t:s0-s0:c0.c1023",
          "/etc/init.d/geartrain-vm-sshd",
          "-D",
          "-p",
          String(unlabelled),
          "-o",
          "PidFile /run/geartrain-vm-sshd-control.pid",
          "-E",
          "/run/geartrain-vm-sshd-control.log",
        ],
        { timeout: 20_000 },
      );
      const controlLog = sh(["cat", "/run/geartrain-vm-sshd-control.log"]).stdout;
      assert(
        refused.signal === null && refused.code !== 0 && /Cannot bind any address/.test(controlLog),
        `sshd on the unlabelled port ${unlabelled}: exit ${refused.code} signal ${refused.signal}, log ${controlLog}`,
      );
      const bindAvc = avcsSince(mark).find((l) => l.includes("name_bind") && l.includes(`src=${unlabelled}`));
      assert(bindAvc, `no name_bind AVC for port ${unlabelled}: ${avcsSince(mark).join("\n")}`);
      const started = sh([
        "runcon",
        "system_u:system_r:initrc_t:s0-s0:c0.c1023",
        "/etc/init.d/geartrain-vm-sshd",
      ]);
      const sshdLog = () => sh(["cat", "/run/geartrain-vm-sshd.log"]).stdout;
      eq(started.code, 0, `sshd started (stderr ${started.stderr})`);
      for (let i = 0; i < 100 && !fs.existsSync("/run/geartrain-vm-sshd.pid"); i++) await sleep(100);
      assert(fs.existsSync("/run/geartrain-vm-sshd.pid"), `sshd did not start: ${sshdLog()}`);
      const sshdPid = Number(fs.readFileSync("/run/geartrain-vm-sshd.pid", "utf8"));
      // the AVCs of the relay's domain from here on (the clone included) are printed at the end
      // every AVC of the push reaches the kernel log (no rate limit) until the check ends: the relay's domain
      // must be refused nothing
      const ratelimit = fs.readFileSync("/proc/sys/kernel/printk_ratelimit", "utf8").trim();
      fs.writeFileSync("/proc/sys/kernel/printk_ratelimit", "0");
      const pushStart = kmsgMark();
      try {
        const sshd = await ctxOf(sshdPid);
        eq(label.parseContext(sshd).type, "sshd_t", "sshd's domain");
        const hostKey = fs
          .readFileSync("/etc/ssh/ssh_host_ed25519_key.pub", "utf8")
          .trim()
          .split(" ")
          .slice(0, 2)
          .join(" ");
        fs.writeFileSync(path.join(cli, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
        const env = {
          PATH: "/usr/bin:/bin",
          HOME: cli,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_AUTHOR_NAME: "T",
          GIT_AUTHOR_EMAIL: "t@example.com",
          GIT_COMMITTER_NAME: "T",
          GIT_COMMITTER_EMAIL: "t@example.com",
          GIT_SSH_COMMAND: `ssh -i ${key} -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${cli}/known_hosts`,
        };
        const work = path.join(cli, "w");
        const url = `ssh://${B.uuid}@127.0.0.1:${port}/~/git/${B.app}.git/`;
        const clone = sh(["git", "clone", "-q", url, work], { env, cwd: cli, timeout: 120_000 });
        eq(clone.code, 0, `clone over ssh (stderr ${clone.stderr}; sshd log ${sshdLog()})`);
        // the build hook reports its uid and context, then waits for the check to look at the gear's processes
        const hooks = path.join(work, ".geartrain", "action_hooks");
        fs.mkdirSync(hooks, { recursive: true });
        // the negative check from inside the session: a 0777 file of gear A's file type at A's level and, the
        // control, one at B's own level, both in 0777 directories (DAC lets B through; only MCS decides)
        const aDir = "/tmp/gt-vm-push-a";
        const bDir = "/tmp/gt-vm-push-b";
        const made = "/tmp/gt-vm-push-made";
        for (const [d, l] of [
          [aDir, LA],
          [bDir, LB],
        ]) {
          fs.mkdirSync(d, { recursive: true });
          fs.writeFileSync(`${d}/f`, `file at ${l}\n`);
          fs.chmodSync(d, 0o777);
          fs.chmodSync(`${d}/f`, 0o777);
          execFileSync("chcon", ["-R", label.gearFileContext(l), d]);
        }
        fs.rmSync(made, { force: true });
        fs.writeFileSync(
          path.join(hooks, "build"),
          [
            "#!/bin/sh",
            "echo \"gt-build $(id -u) $(tr -d '\\000' < /proc/self/attr/current)\"",
            `if cat ${aDir}/f >/dev/null 2>&1; then echo gt-read-a read; else echo gt-read-a denied; fi`,
            `if cat ${bDir}/f >/dev/null 2>&1; then echo gt-read-b read; else echo gt-read-b denied; fi`,
            `echo made-in-the-push > ${made} && chmod 0777 ${made}`,
            'touch "$HOME/app-root/data/in-build"',
            'n=0; while [ ! -e "$HOME/app-root/data/go" ] && [ $n -lt 300 ]; do sleep 0.2; n=$((n+1)); done',
            "",
          ].join("\n"),
          { mode: 0o755 },
        );
        eq(sh(["git", "add", "-A"], { env, cwd: work }).code, 0, "git add");
        eq(sh(["git", "commit", "-qm", "build hook"], { env, cwd: work }).code, 0, "git commit");
        await freshAuditWindow();
        const pushMark = kmsgMark();
        const push = require("child_process").spawn("git", ["push", "origin", "master"], {
          env,
          cwd: work,
          stdio: ["ignore", "pipe", "pipe"],
        });
        let pushOut = "";
        push.stdout.on("data", (d) => (pushOut += d));
        push.stderr.on("data", (d) => (pushOut += d));
        const pushed = new Promise((r) => push.on("exit", (code) => r(code)));
        const home = path.join(config.gearBaseDir, B.uuid);
        const marker = path.join(home, "app-root", "data", "in-build");
        for (let i = 0; i < 600 && !fs.existsSync(marker) && push.exitCode === null; i++) await sleep(200);
        // while the build runs: every process of the gear, by inspect, and the node check
        const duringState = await node.inspectGear(ctx, B.uuid);
        const during = duringState.processes;
        const midCheck = await node.checkNode(ctx);
        // and every process of B's uid, with its parent and command line (/proc, read by root)
        const session = uidProcesses(B.uid);
        // the gear domain (a process at B's level, with B's uid: DAC lets it) cannot signal the relay stage
        const relayNow = session.find(
          (x) => x.cmdline.includes("gear-shell") && !x.cmdline.includes("--in-gear-domain"),
        );
        await freshAuditWindow();
        const killMark = kmsgMark();
        const kills = relayNow
          ? await runInGear(ctx, B.uuid, [
              "/bin/sh",
              "-c",
              'kill -CONT "$1" 2>/dev/null; echo "cont $?"; kill -0 "$1" 2>/dev/null; echo "zero $?"',
              "sh",
              String(relayNow.pid),
            ])
          : null;
        fs.writeFileSync(path.join(home, "app-root", "data", "go"), "");
        const code = await pushed;
        // the check's own file is not the gear's (it would be label drift)
        fs.rmSync(path.join(home, "app-root", "data", "go"), { force: true });
        eq(code, 0, `git push (output ${pushOut}; sshd log ${sshdLog()})`);
        const m = /remote: gt-build (\d+) (\S+)/.exec(pushOut);
        assert(m, `the build hook did not report: ${pushOut}`);
        const p = label.parseContext(m[2]);
        eq([m[1], p.type, p.range], [String(B.uid), label.GEAR_DOMAIN, LB], "the build's uid and context");
        // the session: the forced command's relay stage (outside, it holds sshd's sockets) started the
        // gear-domain stage; that stage and everything below it (git receive-pack, the hooks, the build) are
        // the gear domain at B's level; the only processes of B's uid outside it are the stage's ancestors
        // (the relay, a login shell if one stays, sshd's session process)
        const stage2 = session.filter(
          (x) => x.cmdline.includes("gear-shell") && x.cmdline.includes("--in-gear-domain"),
        );
        eq(stage2.length, 1, `gear-domain stages of gear-shell: ${JSON.stringify(session)}`);
        const byPid = new Map(session.map((x) => [x.pid, x]));
        const ancestors = [];
        for (let x = byPid.get(stage2[0].ppid); x; x = byPid.get(x.ppid)) ancestors.push(x);
        const relay = ancestors[0];
        assert(
          relay && relay.cmdline.includes("gear-shell") && !relay.cmdline.includes("--in-gear-domain"),
          `the gear-domain stage's parent is not the relay stage: ${JSON.stringify(session)}`,
        );
        eq(relay.pid, relayNow && relayNow.pid, "the relay found before the signals");
        // the relay stage runs in its own domain (entered by executing bin/gear-shell from the login)
        eq(
          label.parseContext(relay.context).type,
          label.RELAY_DOMAIN,
          `the relay's domain (${relay.context})`,
        );
        const sshdSession = ancestors.find((x) => /^\S*sshd: \S+@notty/.test(x.cmdline));
        assert(sshdSession, `no sshd session process above the forced command: ${JSON.stringify(session)}`);
        // inspect: the relay and sshd's session process are the push session's, not drift; the node check
        // is clean in the middle of the push
        const roleOf = (pid) => (during.find((x) => x.pid === pid) || {}).role;
        eq(
          [roleOf(relay.pid), roleOf(sshdSession.pid)],
          ["relay", "ssh-session"],
          `inspect's roles of the relay and sshd's session process (${JSON.stringify(during)})`,
        );
        eq(
          duringState.drift.filter((d) => d.field.startsWith("selinux.process:")),
          [],
          "inspect's process drift during the push",
        );
        eq(duringState.drift, [], "inspect's drift of B during the push");
        assert(midCheck.ok, `node check during the push: ${JSON.stringify(midCheck.failures)}`);
        // the gear domain cannot signal the relay: refused, with the AVC of B's level on the relay's domain
        eq(
          kills && kills.stdout.trim().split("\n"),
          ["cont 1", "zero 1"],
          `the gear's signals to the relay (${JSON.stringify(kills)})`,
        );
        const killAvc = avcsSince(killMark).find(
          (l) =>
            /denied\s+\{ (signal|signull) \}/.test(l) &&
            l.includes(`${label.GEAR_DOMAIN}:${LB}`) &&
            l.includes(`tcontext=${relay.context}`),
        );
        assert(killAvc, `no AVC of the gear's signal to the relay: ${avcsSince(killMark).join("\n")}`);
        const below = (x) => {
          for (let y = x; y; y = byPid.get(y.ppid)) if (y.pid === stage2[0].pid) return true;
          return false;
        };
        const inside = session.filter(below);
        for (const x of session) {
          const p = label.parseContext(x.context || "");
          const ok = p && p.type === label.GEAR_DOMAIN && p.range === LB;
          if (below(x)) assert(ok, `session process ${x.pid} ${x.cmdline} is ${x.context}`);
          else
            assert(
              ancestors.includes(x),
              `process ${x.pid} ${x.cmdline} of B's uid is neither the session nor its ancestors (${x.context})`,
            );
        }
        for (const [what, re] of [
          ["git receive-pack", /^(\/usr\/bin\/)?git(-receive-pack| receive-pack)/],
          ["the pre-receive hook", /gear-hook/],
          ["the build", /action_hooks\/build|\/build$/],
        ])
          assert(
            inside.some((x) => re.test(x.cmdline)),
            `no ${what} process in the session: ${JSON.stringify(inside)}`,
          );
        const outside = ancestors.map((x) => `${x.cmdline.split(" ").slice(0, 6).join(" ")} ${x.context}`);
        const sessionSeen = inside.map((x) => `${x.cmdline.split(" ").slice(0, 6).join(" ")} ${x.context}`);
        // the negative check, in the session: B's build could not read A's file (MCS, with the AVC), read its own
        eq(
          [/gt-read-a (\w+)/.exec(pushOut)?.[1], /gt-read-b (\w+)/.exec(pushOut)?.[1]],
          ["denied", "read"],
          `the build's reads of A's and its own 0777 files (output ${pushOut})`,
        );
        await sleep(200);
        const sessionAvc = avcsSince(pushMark).find(
          (l) =>
            /denied\s+\{ (read|open|search) \}/.test(l) &&
            l.includes(`${label.GEAR_DOMAIN}:${LB}`) &&
            l.includes(LA),
        );
        assert(
          sessionAvc,
          `no AVC of the session (${LB}) on A's file (${LA}): ${avcsSince(pushMark).join("\n")}`,
        );
        // and the other way: what the session wrote (at B's level, 0777) gear A cannot read; B can
        eq(label.rangeOf(await label.readLabel(made)), LB, "the level of the file the push made");
        const aReads = await runInGear(ctx, A.uuid, ["/bin/cat", made]);
        const bReads = await runInGear(ctx, B.uuid, ["/bin/cat", made]);
        assert(
          aReads.code !== 0 && /Permission denied/.test(aReads.stderr),
          `A read the push's file: ${JSON.stringify(aReads)}`,
        );
        eq([bReads.code, bReads.stdout.trim()], [0, "made-in-the-push"], "B reads the push's file");
        for (const f of [aDir, bDir, made]) fs.rmSync(f, { recursive: true, force: true });
        console.log(
          `geartrain-vm: the push session: ${sessionSeen.join("; ")}; outside: ${outside.join("; ")}; ${sessionAvc.replace(/^.*avc:/, "avc:")}; the gear signalling the relay: ${killAvc.replace(/^.*avc:/, "avc:")}; node check during the push: ok`,
        );
        // git (receive-pack), the hooks and the build: the gear domain at B's level
        const inGit = during.filter(
          (x) => x.context !== null && (x.comm.startsWith("git") || x.comm === "sleep" || x.comm === "build"),
        );
        assert(
          inGit.some((x) => x.comm.startsWith("git")),
          `no git process during the push: ${JSON.stringify(during)}`,
        );
        for (const x of inGit)
          eq(
            [label.parseContext(x.context).type, label.rangeOf(x.context)],
            [label.GEAR_DOMAIN, LB],
            `${x.comm} ${x.pid}`,
          );
        assert(
          /index\.html/.test(sh(["ls", path.join(home, "app-root", "runtime", "repo")]).stdout),
          "deployed",
        );
        // (a process that exited before its context was read has none)
        const seen = [
          ...new Set(
            during.map((x) =>
              x.context === null
                ? `${x.comm} (exited)`
                : `${x.comm} ${label.parseContext(x.context).type}:${label.rangeOf(x.context)}`,
            ),
          ),
        ];
        console.log(`geartrain-vm: gear B's processes during the push: ${seen.join("; ")}`);
        // the relay's domain has all it needs: nothing of the session was refused to it
        const relayDenials = avcsSince(pushStart).filter((l) =>
          new RegExp(`scontext=\\S+:${label.RELAY_DOMAIN}:`).test(l),
        );
        eq(relayDenials, [], "AVCs of the relay's domain during the clone and the push");
        return {
          port,
          control: bindAvc.replace(/^.*avc:/, "avc:").slice(0, 200),
          during: seen,
          build: m[2],
          sshd,
          forcedCommand: k.forcedCommand,
          session: sessionSeen,
          outside,
          roles: during.filter((x) => x.role !== null).map((x) => `${x.comm} ${x.role}`),
          avc: sessionAvc.replace(/^.*avc:/, "avc:").slice(0, 240),
          relaySignal: killAvc.replace(/^.*avc:/, "avc:").slice(0, 240),
        };
      } finally {
        try {
          process.kill(sshdPid, "SIGTERM");
        } catch {}
        fs.writeFileSync("/proc/sys/kernel/printk_ratelimit", ratelimit);
        // the AVCs of the relay's domain during the push (the console keeps them, also on a failure)
        for (const l of avcsSince(pushStart).filter(
          (x) => x.includes("scontext=") && x.includes(label.RELAY_DOMAIN),
        ))
          console.log(`geartrain-vm: push AVC: ${l.replace(/^.*avc:/, "avc:")}`);
      }
    },
  );

  await check(
    "label drift by hand: inspect reports it, node check fails, update repairs the files (a process in the wrong domain stays drift until killed), check clean",
    async () => {
      const before = await node.checkNode(ctx);
      assert(before.ok, `node check not clean before: ${JSON.stringify(before.failures)}`);
      const home = path.join(config.gearBaseDir, A.uuid);
      execFileSync("chcon", ["-l", "s0", path.join(home, "app-root", "data")]);
      execFileSync("chcon", ["-t", "var_lib_t", path.join(home, ".env", "GEARTRAIN_GEAR_UUID")]);
      // a process of the gear's uid outside the gear domain
      const rogue = require("child_process").spawn(
        "setpriv",
        [`--reuid=${A.uid}`, `--regid=${A.uid}`, "--clear-groups", "sleep", "300"],
        { stdio: "ignore" },
      );
      await sleep(1500);
      const st = await node.inspectGear(ctx, A.uuid);
      const fields = st.drift.map((d) => d.field);
      assert(
        fields.includes(`selinux.file:${path.join(home, "app-root", "data")}`),
        `no drift for data: ${fields}`,
      );
      assert(
        fields.includes(`selinux.file:${path.join(home, ".env", "GEARTRAIN_GEAR_UUID")}`),
        `no drift for env file: ${fields}`,
      );
      assert(
        fields.some((f) => f.startsWith("selinux.process:")),
        `no process drift: ${fields}`,
      );
      const failing = await node.checkNode(ctx);
      assert(!failing.ok, "node check passed with drift");
      // update repairs the files; it does not move (cannot) nor kill the process: that stays drift
      await node.updateGear(ctx, { uuid: A.uuid });
      const repaired = await node.inspectGear(ctx, A.uuid);
      eq(
        repaired.drift.map((d) => d.field),
        [`selinux.process:${rogue.pid}`],
        "drift after update with the process still running",
      );
      rogue.kill("SIGKILL");
      await sleep(200);
      const after = await node.inspectGear(ctx, A.uuid);
      eq(after.drift, [], "drift after update and the process gone");
      const clean = await node.checkNode(ctx);
      assert(clean.ok, `node check after update: ${JSON.stringify(clean.failures)}`);
      return {
        drift: st.drift.filter((d) => d.field.startsWith("selinux")),
        failures: failing.failures.map((f) => f.check),
      };
    },
  );

  await check("cgroup v2: memory.max OOM-kills only the gear's process", async () => {
    await node.createGear(ctx, T);
    const dir = ctx.cgroup.hierarchyDirs()[0];
    const g = path.join(dir, `${config.cgroup.rootName}-${T.uuid}`);
    eq(fs.readFileSync(path.join(g, "memory.max"), "utf8").trim(), String(48 * 2 ** 20), "memory.max");
    const r = await runInGear(
      ctx,
      T.uuid,
      ["python3", "-c", "a = bytearray(200 * 1024 * 1024); print('survived')"],
      { timeoutMs: 120_000 },
    );
    eq(r.signal, "SIGKILL", `the allocation (code ${r.code}, stdout ${r.stdout}, stderr ${r.stderr})`);
    const events = fs.readFileSync(path.join(g, "memory.events"), "utf8");
    assert(/oom_kill [1-9]/.test(events), `memory.events: ${events}`);
    // the rest is alive: this runner, and a gear process started afterwards
    const after = await runInGear(ctx, T.uuid, ["/bin/true"]);
    eq(after.code, 0, "gear usable after the OOM kill");
    return { events: events.trim().replace(/\n/g, ", ") };
  });

  await check("cgroup v2: pids.max stops a fork bomb", async () => {
    const dir = ctx.cgroup.hierarchyDirs()[0];
    const g = path.join(dir, `${config.cgroup.rootName}-${T.uuid}`);
    eq(fs.readFileSync(path.join(g, "pids.max"), "utf8").trim(), "40", "pids.max");
    const r = await runInGear(
      ctx,
      T.uuid,
      [
        "/bin/sh",
        "-c",
        "n=0; while [ $n -lt 200 ]; do sleep 30 & n=$((n+1)); done 2>/dev/null; echo started; kill 0",
      ],
      { timeoutMs: 120_000 },
    );
    const events = fs.readFileSync(path.join(g, "pids.events"), "utf8");
    assert(/max [1-9]/.test(events), `pids.events: ${events} (sh: ${r.stdout} ${r.stderr})`);
    await sleep(300);
    for (const pid of ctx.cgroup.pids ? await ctx.cgroup.pids(T.uuid) : [])
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    return { events: events.trim(), current: fs.readFileSync(path.join(g, "pids.current"), "utf8").trim() };
  });

  await check(
    "CPU contract: a busy gear gets the whole CPU alone and 20% ± 5 against a default-weight process",
    async () => {
      const busy = ["/bin/sh", "-c", "while :; do :; done"];
      const ticks = (pid) => Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
      const gearLoop = await spawnInGear(ctx, A.uuid, busy, { stdio: "ignore" });
      await sleep(1500);
      let t0 = ticks(gearLoop.pid);
      let w0 = process.hrtime.bigint();
      await sleep(3000);
      const alone = (ticks(gearLoop.pid) - t0) / Number(process.hrtime.bigint() - w0);
      // a default-weight process in the root cgroup, in a session of its own
      const host = require("child_process").spawn("setsid", busy, { stdio: "ignore" });
      await sleep(500);
      t0 = ticks(gearLoop.pid);
      const h0 = ticks(host.pid);
      await sleep(4000);
      const g1 = ticks(gearLoop.pid) - t0;
      const hh = ticks(host.pid) - h0;
      gearLoop.kill("SIGKILL");
      host.kill("SIGKILL");
      const share = g1 / (g1 + hh);
      assert(alone > 0.8, `alone the gear got ${(alone * 100).toFixed(1)}% of the CPU`);
      assert(
        share >= 0.15 && share <= 0.25,
        `against a default-weight process the gear got ${(share * 100).toFixed(1)}%`,
      );
      return { alone: `${(alone * 100).toFixed(1)}%`, contended: `${(share * 100).toFixed(1)}%` };
    },
  );

  await check("gear destroy idempotent; nothing left", async () => {
    for (const g of [A, B, T]) {
      const d1 = await node.destroyGear(ctx, g.uuid);
      const d2 = await node.destroyGear(ctx, g.uuid);
      eq(d2.destroyed, false, `second destroy of ${g.uuid}`);
      assert(d1.destroyed !== false, `first destroy of ${g.uuid}`);
    }
    eq(await node.listGears(ctx), [], "gears left");
    const rep = await node.checkNode(ctx);
    assert(rep.ok, `node check after destroy: ${JSON.stringify(rep.failures)}`);
    return "ok";
  });
}

main()
  .catch((e) => {
    results.push({ name: "guest runner", ok: false, detail: `${e && e.stack ? e.stack : e}`, ms: 0 });
    save();
    console.log(`geartrain-vm: runner failed: ${e && e.stack ? e.stack : e}`);
  })
  .finally(() => {
    save();
    process.exit(0);
  });
