// The dev stack under the real engine: up, no-change preview, drift found and repaired, destroy.
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

jest.setTimeout(15 * 60 * 1000);

describe("dev stack", () => {
  let sandbox: PulumiSandbox;
  let configDir: string;

  beforeAll(() => {
    requireToolchain();
    sandbox = new PulumiSandbox("e2e");
    sandbox.setPlatform(path.join(PROJECT_ROOT, "platforms/dev.yaml"));
    configDir = path.join(sandbox.dir, "root");
    sandbox.init();
    sandbox.ok(["config", "set", "configDir", configDir]);
  });

  afterAll(() => {
    if (!sandbox) return;
    sandbox.run(["destroy", "--yes", "--skip-preview"]);
    sandbox.cleanup();
  });

  it("comes up with real commands, cloud-init output and a dynamic resource", () => {
    sandbox.ok(["up", "--yes", "--skip-preview"]);
    const summary = JSON.parse(fs.readFileSync(path.join(configDir, "platform.json"), "utf8"));
    expect(summary).toEqual({
      domain: "apps.dev.geartrain.test",
      roles: ["broker", "datastore", "msgserver", "nameserver", "node"],
    });
    expect(fs.statSync(configDir).mode & 0o777).toBe(0o755);

    const outputs = JSON.parse(sandbox.ok(["stack", "output", "--json", "--show-secrets"]).stdout);
    const cgroupV2 = fs.existsSync("/sys/fs/cgroup/cgroup.controllers");
    expect(outputs.hostFacts.local.cgroup).toBe(cgroupV2 ? "v2" : "v1");
    expect(outputs.hostFacts.local.kernel).toMatch(/^Linux /);
    expect(outputs.nodeCloudInit).toMatch(/^#cloud-config\n/);
    expect(outputs.nodeCloudInit).toContain("openssh-server");
    expect(outputs.configDirPath).toBe(configDir);
  });

  it("shows no changes on a second preview", () => {
    const preview = sandbox.run(["preview", "--expect-no-changes", "--diff"]);
    expect(preview.stderr + preview.stdout).not.toMatch(/error/i);
    expect(preview.code).toBe(0);
  });

  it("reports drift on the host in a refreshing preview and repairs it on up", () => {
    fs.chmodSync(configDir, 0o700);
    const drift = sandbox.run(["preview", "--refresh", "--expect-no-changes", "--diff"]);
    expect(drift.code).not.toBe(0);
    expect(drift.stdout).toMatch(/mode[^\n]*"0700"[^\n]*"0755"/);

    sandbox.ok(["up", "--yes", "--skip-preview", "--refresh"]);
    expect(fs.statSync(configDir).mode & 0o777).toBe(0o755);
  });

  it("leaves nothing behind on destroy", () => {
    sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    expect(fs.existsSync(path.join(configDir, "platform.json"))).toBe(false);
    expect(fs.existsSync(configDir)).toBe(false);
    const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
    expect(exported.deployment.resources ?? []).toEqual([]);
  });
});

describe("invalid stack config", () => {
  it("fails before any resource is declared, naming every bad field", () => {
    requireToolchain();
    const sandbox = new PulumiSandbox(
      "bad",
      path.join(PROJECT_ROOT, "test/fixtures/config/invalid-dev.yaml"),
    );
    try {
      sandbox.init();
      const configDir = path.join(sandbox.dir, "root");
      sandbox.ok(["config", "set", "configDir", configDir]);
      const up = sandbox.run(["up", "--yes", "--skip-preview"]);
      expect(up.code).not.toBe(0);
      const output = up.stdout + up.stderr;
      expect(output).toContain("geartrain:platform.hosts[0].name");
      expect(output).toContain("geartrain:platform.hosts[0].roles[1]");
      expect(output).not.toMatch(/at Object\.<anonymous>/); // a clean message, not a stack trace
      expect(fs.existsSync(configDir)).toBe(false);
      // The engine registers the stack itself before the program runs; nothing else may exist.
      const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
      const types = (exported.deployment.resources ?? []).map((r: { type: string }) => r.type);
      expect(types).toEqual(["pulumi:pulumi:Stack"]);
    } finally {
      sandbox.cleanup();
    }
  });
});
