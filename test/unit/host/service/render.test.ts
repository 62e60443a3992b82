// Rendered service definitions (both backends) as snapshots, the quoting rules, and `systemd-analyze
// verify` on every rendered unit (the systemd package is in scripts/debian-packages.txt; this machine has
// systemd-analyze without systemd as PID 1).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SERVICE_SCRIPT } from "../../../../components/host/service/host-script";
import { resolveService, ServiceSpec, ServiceSpecInput } from "../../../../components/host/service/model";
import {
  renderDefinition,
  renderEnvironment,
  renderEnvironmentFile,
  shellQuote,
  systemdQuote,
} from "../../../../components/host/service/render";

const MINIMAL: Omit<ServiceSpecInput, "backend"> = {
  name: "web",
  serviceDirectory: "/var/lib/geartrain/services",
  command: ["/usr/bin/python3", "-m", "http.server", "8080"],
};

const FULL: Omit<ServiceSpecInput, "backend"> = {
  name: "broker",
  serviceDirectory: "/var/lib/geartrain/services",
  command: ["/usr/bin/node", "/opt/geartrain/broker.js", '--name=it\'s 100% $HOME "quoted" \\ back'],
  user: "www-data",
  group: "www-data",
  workingDirectory: "/opt/geartrain",
  environmentNames: ["PGPASSWORD", "BROKER_PORT"],
  restart: "on-failure",
  readiness: { tcp: { address: "127.0.0.1", port: 8443 }, attempts: 30, intervalSeconds: 2 },
  stopSignal: "INT",
  stopTimeoutSeconds: 30,
  requires: ["postgresql", "activemq"],
};

const COMMAND_CHECK: Omit<ServiceSpecInput, "backend"> = {
  name: "postgresql",
  serviceDirectory: "/srv/gt",
  command: ["/usr/lib/postgresql/15/bin/postgres", "-D", "/srv/pg"],
  user: "postgres",
  restart: "no",
  readiness: { command: ["/usr/bin/pg_isready", "-h", "127.0.0.1", "-p", "5433"] },
};

const spec = (input: Omit<ServiceSpecInput, "backend">, backend: "systemd" | "runit"): ServiceSpec =>
  resolveService({ ...input, backend });

describe("service definitions", () => {
  for (const backend of ["systemd", "runit"] as const) {
    it.each([
      ["minimal", MINIMAL],
      ["full", FULL],
      ["command check", COMMAND_CHECK],
    ])(`renders the ${backend} definition of a %s service`, (_label, input) => {
      const files = renderDefinition(spec(input, backend));
      expect(files.map((f) => f.name)).toEqual([...files.map((f) => f.name)].sort());
      expect(Object.fromEntries(files.map((f) => [`${f.mode} ${f.path}`, f.content]))).toMatchSnapshot();
    });
  }

  it("is deterministic: the same spec with lists in another order renders the same files", () => {
    const shuffled = {
      ...FULL,
      environmentNames: ["BROKER_PORT", "PGPASSWORD"],
      requires: ["activemq", "postgresql"],
    };
    for (const backend of ["systemd", "runit"] as const) {
      expect(renderDefinition(spec(shuffled, backend))).toEqual(renderDefinition(spec(FULL, backend)));
    }
  });

  it("keeps secret values out of every definition file; only the 0600 environment file has them", () => {
    const secret = "pa$$w0rd'\"`\\ x";
    for (const backend of ["systemd", "runit"] as const) {
      const s = spec(FULL, backend);
      for (const f of renderDefinition(s)) expect(f.content).not.toContain("pa$$w0rd");
      const env = renderEnvironmentFile(s, { PGPASSWORD: secret, BROKER_PORT: "8443" })!;
      expect(env.mode).toBe("0600");
      expect(env.content.replace(/\0/g, "\\0")).toMatchSnapshot(`${backend} environment file`);
    }
    expect(renderEnvironmentFile(spec(MINIMAL, "runit"), {})).toBeNull();
  });

  it("runit's environment records read back exactly in bash (read -d '')", () => {
    const env = { A: "plain", B: 'it\'s $HOME `x` \\ "q" *', C: "" };
    const content = renderEnvironment(spec(MINIMAL, "runit"), env);
    const out = execFileSync(
      "/bin/bash",
      [
        "-c",
        'env -i /bin/bash -c \'while IFS= read -r -d "" kv; do export "$kv"; done; printf "%s\\0" "$A" "$B" "$C"\'',
      ],
      { input: content },
    ).toString();
    expect(out.split("\0").slice(0, 3)).toEqual([env.A, env.B, env.C]);
  });

  it("quotes words for bash so they come back unchanged", () => {
    const words = ["plain", "it's", "$HOME", "a b", "`id`", "\\", '"', "*", "100%"];
    const out = execFileSync("/bin/bash", [
      "-c",
      `printf '%s\\0' ${words.map(shellQuote).join(" ")}`,
    ]).toString();
    expect(out.split("\0").slice(0, -1)).toEqual(words);
  });

  it("quotes ExecStart words: no expansion of $ or %, escaped quotes and backslashes", () => {
    expect(systemdQuote("100%")).toBe('"100%%"');
    expect(systemdQuote("$HOME")).toBe('"$$HOME"');
    expect(systemdQuote('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
  });
});

describe("systemd-analyze verify", () => {
  const analyze = "/usr/bin/systemd-analyze";
  let dir: string;
  beforeAll(() => {
    if (!fs.existsSync(analyze)) {
      throw new Error(
        `${analyze} is missing. Fix: apt-get install -y systemd (in scripts/debian-packages.txt; only the binary is used)`,
      );
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-units-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["minimal", MINIMAL],
    ["full", FULL],
    ["command check", COMMAND_CHECK],
  ])("accepts the unit of a %s service without a warning", (_label, input) => {
    // executables and users the unit names must exist for verify; use ones every Debian machine has
    const s = spec({ ...input, command: ["/bin/sleep", ...input.command.slice(1)] }, "systemd");
    const unit = renderDefinition(s).find((f) => f.name === "unit")!;
    const file = path.join(dir, path.basename(unit.path));
    fs.writeFileSync(file, unit.content);
    // the units it requires, so verify resolves them
    for (const dep of s.requires) {
      fs.writeFileSync(path.join(dir, `geartrain-${dep}.service`), "[Service]\nExecStart=/bin/true\n");
    }
    const r = spawnSync(analyze, ["verify", file], {
      encoding: "utf8",
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:`, SYSTEMD_LOG_LEVEL: "warning" },
    });
    // verify exits 0 even for values it ignores: any output is a finding
    const findings = (r.stdout + r.stderr).split("\n").filter((l) => l.trim() !== "");
    expect({ status: r.status, findings }).toEqual({ status: 0, findings: [] });
  });

  it("does report a bad unit (the check can fail)", () => {
    const file = path.join(dir, "geartrain-bad.service");
    fs.writeFileSync(file, "[Service]\nExecStart=/bin/sleep 1\nRestart=sometimes\n");
    const r = spawnSync(analyze, ["verify", file], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toMatch(/Restart|restart/);
  });
});

describe("the host script", () => {
  it("is valid bash, and refuses arguments that are not a name, a path or a number before doing anything", () => {
    expect(spawnSync("/bin/bash", ["-n", "-c", SERVICE_SCRIPT]).status).toBe(0);
    const run = (...args: string[]) =>
      spawnSync("/bin/bash", ["-c", SERVICE_SCRIPT, "geartrain-service", ...args], { encoding: "utf8" });
    for (const [args, message] of [
      [["status", "runit", "relative", "web"], "bad service directory"],
      [["status", "runit", "/srv/../etc", "web"], "bad service directory"],
      [["status", "runit", "/srv/gt", "web;rm"], "bad service name"],
      [["apply", "runit", "/srv/gt", "web", "10", "x"], "bad number"],
      [["status", "upstart", "/srv/gt", "web"], "bad backend"],
    ] as const) {
      const r = run(...args);
      expect({ args, code: r.status, stderr: r.stderr.trim() }).toEqual({
        args,
        code: 2,
        stderr: `geartrain-service: ${message}`,
      });
    }
  });
});
