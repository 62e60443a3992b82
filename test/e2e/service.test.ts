// A Service through the real engine on this machine (no systemd as PID 1: the private runit under a
// temp service directory): up starts a python3 http.server and waits for its port; a second preview shows
// no changes; a daemon stopped by hand, and a whole supervision tree killed, are started again by the next
// up; destroy leaves no process and no file. The secret in its environment appears nowhere in plain text.
// Also: an unreachable SSH host fails with a clear message once its retry budget is spent.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { freePort, keygen, requireOpenSsh } from "../helpers/sshd";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { startSshd, Sshd } from "../integration/command-provider/sshd";
import { processesUnder } from "../helpers/processes";

jest.setTimeout(15 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/service");
const TOKEN = "gt-e2e-service-token-5d1e8a0c93b7";

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/index.html", timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

const refused = (port: number) =>
  get(port).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === "ECONNREFUSED",
  );

describe("Service on this machine (runit)", () => {
  let sandbox: PulumiSandbox;
  let serviceDir: string;
  let docroot: string;
  let port: number;
  let svDir: string;

  beforeAll(async () => {
    requireToolchain();
    if (!fs.existsSync("/usr/bin/runsvdir")) {
      throw new Error("runsvdir is missing. Fix: apt-get install -y runit (in scripts/debian-packages.txt)");
    }
    sandbox = new PulumiSandbox("service", undefined, PROJECT);
    serviceDir = path.join(sandbox.dir, "services");
    svDir = path.join(serviceDir, "runit/sv/e2e-web");
    // the daemon runs as nobody: its document root must be readable by everyone
    docroot = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-docroot-"));
    fs.chmodSync(docroot, 0o755);
    fs.writeFileSync(path.join(docroot, "index.html"), "hello from a geartrain service\n", { mode: 0o644 });
    port = await freePort();
    sandbox.init();
    sandbox.ok(["config", "set", "mode", "service"]);
    sandbox.ok(["config", "set", "port", String(port)]);
    sandbox.ok(["config", "set", "serviceDirectory", serviceDir]);
    sandbox.ok(["config", "set", "docroot", docroot]);
    sandbox.ok(["config", "set", "--secret", "token", TOKEN]);
  });

  afterAll(() => {
    if (sandbox) {
      sandbox.run(["destroy", "--yes", "--skip-preview"]);
      sandbox.cleanup();
    }
    if (docroot) fs.rmSync(docroot, { recursive: true, force: true });
  });

  const outputs: string[] = [];

  it("comes up: the daemon answers, runs as nobody, and has the secret only in its environment", async () => {
    const up = sandbox.ok(["up", "--yes", "--skip-preview", "--diff"]);
    outputs.push(up.stdout + up.stderr);
    expect(await get(port)).toEqual({ status: 200, body: "hello from a geartrain service\n" });
    const stack = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout);
    expect(stack.outputs).toEqual({ backend: "runit", definitionPath: svDir });

    const pid = Number(fs.readFileSync(path.join(svDir, "supervise/pid"), "utf8"));
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const nobody = execFileSync("id", ["-u", "nobody"]).toString().trim();
    expect(status).toMatch(new RegExp(`^Uid:\\s+${nobody}\\s`, "m"));
    expect(fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")).toContain(`GT_E2E_TOKEN=${TOKEN}`);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(TOKEN);
    expect(fs.statSync(path.join(svDir, "env")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(svDir, "run"), "utf8")).not.toContain(TOKEN);
  });

  it("shows no changes on a second preview and a second up", () => {
    const preview = sandbox.run(["preview", "--expect-no-changes", "--diff"]);
    outputs.push(preview.stdout + preview.stderr);
    expect(preview.code).toBe(0);
    const up = sandbox.ok(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    outputs.push(up.stdout + up.stderr);
  });

  it("starts a daemon stopped by hand again on the next up", async () => {
    execFileSync("sv", ["-w", "10", "down", svDir]);
    expect(await refused(port)).toBe(true);
    const preview = sandbox.run(["preview", "--expect-no-changes"]);
    expect(preview.code).not.toBe(0); // drift: the daemon is not running
    expect(preview.stdout + preview.stderr).toMatch(/e2e-web.*not running \(down\)/);
    const up = sandbox.ok(["up", "--yes", "--skip-preview"]);
    outputs.push(up.stdout + up.stderr);
    expect((await get(port)).status).toBe(200);
  });

  it("starts the supervisor and the daemon again after the whole tree was killed", async () => {
    const pidFile = path.join(serviceDir, "runit/runsvdir.pid");
    const runsvdir = Number(fs.readFileSync(pidFile, "utf8"));
    // by id, supervisors first so nothing is started again in between: runsvdir (pid file), runsv (its cwd is
    // the service's), then the daemon (runsv's pid file, read again: runsv may have restarted it) and svlogd
    const daemonPid = () => Number(fs.readFileSync(path.join(svDir, "supervise/pid"), "utf8"));
    const kill = (pid: number) => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    };
    const first = daemonPid();
    kill(runsvdir);
    const comm = (pid: number) => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      } catch {
        return null;
      }
    };
    for (const pid of processesUnder(svDir)) if (comm(pid) === "runsv") kill(pid);
    for (const pid of new Set([first, daemonPid(), ...processesUnder(svDir)])) kill(pid);
    for (let i = 0; i < 50 && (processesUnder(svDir).length > 0 || !(await refused(port))); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await refused(port)).toBe(true);

    const up = sandbox.ok(["up", "--yes", "--skip-preview"]);
    outputs.push(up.stdout + up.stderr);
    expect((await get(port)).status).toBe(200);
    expect(Number(fs.readFileSync(pidFile, "utf8"))).not.toBe(runsvdir);
    const preview = sandbox.run(["preview", "--expect-no-changes", "--diff"]);
    outputs.push(preview.stdout + preview.stderr);
    expect(preview.code).toBe(0);
  });

  it("keeps the secret out of state, outputs and every CLI output", () => {
    const state = sandbox.ok(["stack", "export"]).stdout;
    const stackOutputs = sandbox.ok(["stack", "output", "--json"]).stdout;
    for (const [what, text] of Object.entries({
      state,
      stackOutputs,
      config: fs.readFileSync(sandbox.configFile, "utf8"),
      cli: outputs.join("\n"),
    })) {
      expect({ what, leaks: text.includes(TOKEN) }).toEqual({ what, leaks: false });
    }
    expect(sandbox.ok(["stack", "export", "--show-secrets"]).stdout).toContain(TOKEN);
  });

  it("leaves no process and no file on destroy", async () => {
    const runsvdir = Number(fs.readFileSync(path.join(serviceDir, "runit/runsvdir.pid"), "utf8"));
    sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    expect(await refused(port)).toBe(true);
    expect(fs.existsSync(serviceDir)).toBe(false);
    expect(processesUnder(serviceDir)).toEqual([]);
    const alive = (() => {
      try {
        return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${runsvdir}/stat`, "utf8"));
      } catch {
        return false;
      }
    })();
    expect(alive).toBe(false);
    const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
    expect(exported.deployment.resources ?? []).toEqual([]);
  });
});

describe("Service on an SSH host", () => {
  let sshd: Sshd;
  let sandbox: PulumiSandbox;
  let docroot: string;
  let serviceDir: string;
  let port: number;

  beforeAll(async () => {
    requireToolchain();
    sshd = await startSshd();
    sandbox = new PulumiSandbox("service-ssh", undefined, PROJECT);
    serviceDir = path.join(sandbox.dir, "remote-services");
    docroot = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-docroot-"));
    fs.writeFileSync(path.join(docroot, "index.html"), "hello over ssh\n");
    port = await freePort();
    sandbox.init();
    for (const [key, value] of Object.entries({
      mode: "ssh",
      port: String(port),
      sshPort: String(sshd.port),
      hostKey: sshd.hostKeyEd25519,
      serviceDirectory: serviceDir,
      docroot,
    })) {
      sandbox.ok(["config", "set", key, value]);
    }
    sandbox.ok(["config", "set", "--secret", "token", TOKEN]);
    sandbox.ok([
      "config",
      "set",
      "--secret",
      "privateKeyBase64",
      Buffer.from(sshd.clientKey).toString("base64"),
    ]);
  });

  afterAll(async () => {
    if (sandbox) {
      sandbox.run(["destroy", "--yes", "--skip-preview"]);
      sandbox.cleanup();
    }
    if (sshd) await sshd.stop();
    if (docroot) fs.rmSync(docroot, { recursive: true, force: true });
  });

  it("comes up over SSH, shows no changes, restarts a stopped daemon, and is removed by destroy", async () => {
    const up = sandbox.ok(["up", "--yes", "--skip-preview"]);
    expect(await get(port)).toEqual({ status: 200, body: "hello over ssh\n" });
    const svDir = path.join(serviceDir, "runit/sv/e2e-ssh-web");
    expect(sandbox.run(["preview", "--expect-no-changes"]).code).toBe(0);

    execFileSync("sv", ["-w", "10", "down", svDir]);
    expect(await refused(port)).toBe(true);
    const again = sandbox.ok(["up", "--yes", "--skip-preview"]);
    expect((await get(port)).status).toBe(200);
    expect(sandbox.run(["preview", "--expect-no-changes"]).code).toBe(0);

    const state = sandbox.ok(["stack", "export"]).stdout;
    for (const text of [state, up.stdout + up.stderr, again.stdout + again.stderr]) {
      expect(text.includes(TOKEN)).toBe(false);
      expect(text.includes("PRIVATE KEY")).toBe(false);
    }
    sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    expect(await refused(port)).toBe(true);
    expect(fs.existsSync(serviceDir)).toBe(false);
    expect(processesUnder(serviceDir)).toEqual([]);
  });
});

describe("an unreachable SSH host", () => {
  it("fails once its retry budget is spent, naming the address and the attempts", async () => {
    requireToolchain();
    requireOpenSsh();
    const sandbox = new PulumiSandbox("unreachable", undefined, PROJECT);
    try {
      const closed = await freePort(); // nothing listens there
      const key = path.join(sandbox.dir, "id_ed25519");
      keygen(key);
      sandbox.init();
      sandbox.ok(["config", "set", "mode", "unreachable"]);
      sandbox.ok(["config", "set", "port", String(closed)]);
      // one line on the command line: the program decodes it
      sandbox.ok(["config", "set", "--secret", "privateKeyBase64", fs.readFileSync(key).toString("base64")]);
      const up = sandbox.run(["up", "--yes", "--skip-preview"]);
      const text = up.stdout + up.stderr;
      expect(up.code).not.toBe(0);
      expect(text).toContain("unreachable-wait-ssh");
      expect(text).toMatch(
        new RegExp(`could not connect to root@127\\.0\\.0\\.1:${closed} after 3 attempts .*ECONNREFUSED`),
      );
      // nothing behind the gate ran: no facts, no service
      const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
      const names = (exported.deployment.resources ?? []).map((r: { urn: string }) =>
        r.urn.split("::").pop(),
      );
      expect(names).not.toContain("unreachable-facts");
      expect(names).not.toContain("unreachable-web-daemon");
      expect(text).not.toContain("PRIVATE KEY");
    } finally {
      sandbox.cleanup();
    }
  });
});
