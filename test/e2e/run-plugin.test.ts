// Plugins the engine starts through our language host's RunPlugin, through the real engine: a Node.js
// policy pack on @pulumi/policy 1.x (mandatory and advisory policies, policy config, stack config)
// and a resource provider run from its Node.js source directory.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

jest.setTimeout(5 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/run-plugin");
const OWNER = "team-e2e";

/** Copies the fixture pack to `dir` and installs its pinned dependencies there from the npm registry. */
function installPolicyPack(dir: string): void {
  const source = path.join(PROJECT, "policy-pack");
  for (const file of fs.readdirSync(source)) fs.copyFileSync(path.join(source, file), path.join(dir, file));
  const npm = spawnSync(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
    { cwd: dir, encoding: "utf8" },
  );
  if (npm.status !== 0) {
    throw new Error(
      `npm install of the policy pack's dependencies (@pulumi/policy, @pulumi/pulumi) failed in ${dir}; ` +
        `the npm registry must be reachable (or the packages in npm's cache):\n${npm.stdout}\n${npm.stderr}`,
    );
  }
}

describe("plugins run by the language host (RunPlugin)", () => {
  let sandbox: PulumiSandbox;
  let pack: string;

  beforeAll(() => {
    requireToolchain();
    sandbox = new PulumiSandbox("run-plugin", undefined, PROJECT);
    pack = path.join(sandbox.dir, "policy-pack");
    fs.mkdirSync(pack);
    installPolicyPack(pack);
    sandbox.init();
    sandbox.ok(["config", "set", "owner", OWNER]);
  });

  afterAll(() => {
    if (!sandbox) return;
    sandbox.run(["destroy", "--yes", "--skip-preview"]);
    sandbox.cleanup();
  });

  it("a mandatory policy of a Node.js policy pack fails the preview; an advisory one warns", () => {
    const preview = sandbox.run(["preview", "--policy-pack", pack]);
    const output = preview.stdout + preview.stderr;
    expect(preview.code).not.toBe(0);
    expect(output).toMatch(/\[mandatory\]\s+forbidden-commands\s+\(command:local:Command: wipe\)/);
    // The stack and its config reach the pack through the host's policy proxy.
    expect(output).toContain(`wipe runs "rm -rf" in stack ${sandbox.stack} owned by ${OWNER}`);
    expect(output).toMatch(/\[advisory\]\s+command-needs-delete\s+\(command:local:Command: greet\)/);
    expect(output).toContain("greet has no delete command");
  });

  it("--policy-pack-config reaches the pack and changes what it forbids", () => {
    const config = path.join(sandbox.dir, "policy-config.json");
    fs.writeFileSync(config, JSON.stringify({ "forbidden-commands": { forbidden: ["hello"] } }));
    const preview = sandbox.run(["preview", "--policy-pack", pack, "--policy-pack-config", config]);
    const output = preview.stdout + preview.stderr;
    expect(preview.code).not.toBe(0);
    expect(output).toContain(`greet runs "hello" in stack ${sandbox.stack}`);
    expect(output).not.toContain('wipe runs "rm -rf"');
  });

  it("an enforcement level from policy config turns the mandatory policy advisory", () => {
    const config = path.join(sandbox.dir, "policy-advisory.json");
    fs.writeFileSync(config, JSON.stringify({ "forbidden-commands": "advisory" }));
    const preview = sandbox.ok(["preview", "--policy-pack", pack, "--policy-pack-config", config]);
    expect(preview.stdout).toMatch(/\[advisory\]\s+forbidden-commands\s+\(command:local:Command: wipe\)/);
  });

  it("a policy pack without its dependencies fails the preview, saying what to run", () => {
    const bare = path.join(sandbox.dir, "bare-pack");
    fs.mkdirSync(bare);
    for (const file of ["PulumiPolicy.yaml", "package.json", "index.js"]) {
      fs.copyFileSync(path.join(pack, file), path.join(bare, file));
    }
    const preview = sandbox.run(["preview", "--policy-pack", bare]);
    expect(preview.code).not.toBe(0);
    expect(preview.stdout + preview.stderr).toContain(
      `could not find @pulumi/pulumi/cmd/run-policy-pack from ${bare}: run \`npm install\` there first`,
    );
  });

  it("a resource provider run from its Node.js source creates its resource", () => {
    sandbox.ok(["up", "--yes", "--skip-preview"]);
    const message = sandbox.ok(["stack", "output", "message"]).stdout.trim();
    expect(message).toBe("hello geartrain from a node provider");
  });
});
