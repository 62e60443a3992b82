// The README's two commands as a new user types them, on a fresh clone under the real engine:
// `npm run deploy:dev`, then the checks `npm test` starts with (eslint, prettier --check), then deploy
// again. Deploying must leave the checkout exactly as cloned: the stack's config file (passphrase salt,
// the user's settings and secrets) lives in the user's home, never in the tree. The clone sits in a 0700
// directory, as a clone in root's home does: the platform's own users (the broker's) cannot read it, so
// what they run must be installed elsewhere.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT_ROOT, requireToolchain } from "../helpers/pulumi-cli";
import { freePort } from "../helpers/sshd";

jest.setTimeout(10 * 60 * 1000);

interface Run {
  readonly code: number;
  readonly output: string;
}

describe("a fresh clone", () => {
  let tmp: string;
  let clone: string;
  let home: string;
  let configDir: string;
  let dataDir: string;
  /** The per-user flags of the first deploy: own directories and ports (this machine may run a dev stack). */
  let userFlags: string[];
  let env: NodeJS.ProcessEnv;

  function run(command: string, args: string[]): Run {
    const result = spawnSync(command, args, {
      cwd: clone,
      env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error) throw result.error;
    return { code: result.status ?? -1, output: `${result.stdout}\n${result.stderr}` };
  }
  const ok = (command: string, args: string[]): string => {
    const result = run(command, args);
    if (result.code !== 0)
      throw new Error(`${command} ${args.join(" ")} exited ${result.code}\n${result.output}`);
    return result.output;
  };
  /** `pulumi <args>` the way the README shows it: `source scripts/env.sh`, then pulumi. */
  const pulumi = (args: string[]) =>
    run("bash", ["-c", 'source scripts/env.sh && exec pulumi "$@"', "pulumi", ...args, "--non-interactive"]);
  const gitStatus = () => ok("git", ["status", "--porcelain", "--untracked-files=all"]).trim();
  /** The user's config file of the clone's dev stack: in the folder whose `checkout` file names the clone. */
  const userStackConfig = () => {
    const stacks = path.join(home, ".geartrain/stacks");
    const mine = fs
      .readdirSync(stacks)
      .filter((d) => fs.readFileSync(path.join(stacks, d, "checkout"), "utf8") === `${clone}\n`);
    expect(mine).toHaveLength(1);
    return path.join(stacks, mine[0]!, "Pulumi.dev.yaml");
  };
  const saltOf = (file: string): unknown => YAML.parse(fs.readFileSync(file, "utf8"))?.encryptionsalt;

  beforeAll(async () => {
    requireToolchain();
    requireInstalledDependencies();
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "gt-fresh-clone-")));
    clone = path.join(tmp, "clone");
    home = path.join(tmp, "home");
    // the daemons' own users (postgres, activemq, bind) must reach their directories, and the guestbook's
    // gear the node config (its push deploys as the gear): not under tmp (0700)
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-fresh-clone-data-"));
    fs.chmodSync(dataDir, 0o755);
    configDir = path.join(dataDir, "etc");
    const ports: Record<string, number> = {};
    for (const role of ["broker", "msgserver", "datastore", "nameserver", "nodeHttp", "nodeHttps", "nodeSsh"])
      ports[role] = await freePort();
    userFlags = [
      "--config",
      `configDir=${configDir}`,
      "--config",
      `dataDir=${dataDir}`,
      "--config",
      `ports=${JSON.stringify(ports)}`,
      // its district on UIDs of its own (docs/node-operations.md: 60600-60649): a dev stack deployed here
      // has its guestbook gear in 2000-6999, and the node refuses a UID another gear holds
      "--config",
      `uidRanges=${JSON.stringify({ "dev-small": { min: 60600, max: 60649 } })}`,
      // the node's unidler port and gear names of its own (a dev stack here keeps the defaults)
      "--config",
      `node=${JSON.stringify({
        idlePort: await freePort(),
        gecos: "Geartrain e2e fresh-clone gear",
        cgroupRootName: "gt-e2e-fresh",
        networkTable: "gt_e2e_fresh",
      })}`,
    ];
    fs.mkdirSync(home);
    env = {
      // No PULUMI_* or GEARTRAIN_* of the caller: the clone gets exactly what a new user gets.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PULUMI|GEARTRAIN)_/.test(k))),
      HOME: home, // the passphrase and the stack config are created here, not in the real home
      GEARTRAIN_CACHE: toolchainCache(), // the Pulumi CLI built once for this machine (a cold build is 10 min)
      npm_config_update_notifier: "false",
    };
    // A clone of the committed HEAD: what a new user gets (uncommitted changes are not in it).
    const cloned = spawnSync("git", ["clone", "--quiet", PROJECT_ROOT, clone], { encoding: "utf8" });
    if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
    // The test's shortcut for `npm ci`: the checkout's dependencies (.gitignore covers the link).
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(clone, "node_modules"));
    // and the policy pack's (policies/node_modules, installed by setup.sh from its own lock)
    fs.symlinkSync(
      path.join(PROJECT_ROOT, "policies/node_modules"),
      path.join(clone, "policies/node_modules"),
    );
  });

  afterAll(() => {
    if (!tmp) return;
    if (fs.existsSync(path.join(clone, ".state")))
      pulumi(["destroy", "--yes", "--skip-preview", "--stack", "dev"]);
    fs.rmSync(tmp, { recursive: true, force: true });
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("deploys the dev stack without changing the checkout", async () => {
    // The flags a new user would not pass: the dev stack's files go to scratch directories, on free ports.
    ok("npm", ["run", "--silent", "deploy:dev", "--", ...userFlags]);
    const outputs = spawnSync(
      "bash",
      ["-c", "source scripts/env.sh && exec pulumi stack output --json --stack dev"],
      { cwd: clone, env, encoding: "utf8" },
    );
    expect(outputs.status).toBe(0);
    const { brokerUrl } = JSON.parse(outputs.stdout) as { brokerUrl: string };
    // the broker runs, as its own user, from the release installed for it
    const api = await fetch(`${brokerUrl}/broker/rest/api`, {
      headers: { accept: "application/json;version=1.7" },
    });
    expect(api.status).toBe(200);
    expect(gitStatus()).toBe("");
    expect(saltOf(userStackConfig())).toMatch(/^v1:/);
    expect(fs.statSync(path.dirname(userStackConfig())).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(home, ".geartrain/passphrase")).mode & 0o777).toBe(0o600);
  });

  it("passes the checks npm test starts with", () => {
    ok("npx", ["eslint", "."]);
    ok("npx", ["prettier", "--check", "."]);
  });

  it("deploys again with the same salt, still clean", () => {
    const salt = saltOf(userStackConfig());
    ok("npm", ["run", "--silent", "deploy:dev"]);
    expect(saltOf(userStackConfig())).toBe(salt);
    expect(gitStatus()).toBe("");
  });

  it("keeps the salt of the state when the user's stack config lost it, so secrets still decrypt", () => {
    const file = userStackConfig();
    const salt = saltOf(file);
    expect(pulumi(["config", "set", "--secret", "--stack", "dev", "probe", "gt-probe-value"]).code).toBe(0);
    const stackConfig = YAML.parse(fs.readFileSync(file, "utf8"));
    delete stackConfig.encryptionsalt;
    fs.writeFileSync(file, YAML.stringify(stackConfig));

    // The README's direct use: `source scripts/env.sh`, then pulumi. The engine takes the salt from state.
    const preview = pulumi(["preview", "--expect-no-changes", "--stack", "dev"]);
    expect(preview.output).not.toMatch(/error/i);
    expect(preview.code).toBe(0);
    expect(saltOf(file)).toBe(salt);
    const get = pulumi(["config", "get", "--stack", "dev", "probe"]);
    expect(get.output).toContain("gt-probe-value");
    expect(get.code).toBe(0);
    expect(gitStatus()).toBe("");
  });
});

/** The toolchain cache of this checkout's Pulumi CLI: `<cache>/toolchain/<key>/bin/pulumi`. */
function toolchainCache(): string {
  return path.resolve(fs.realpathSync(path.join(PROJECT_ROOT, ".geartrain/bin/pulumi")), "../../../..");
}

/** The clone shares node_modules; setup.sh would run `npm ci` into it if it were stale. */
function requireInstalledDependencies(): void {
  const lock = crypto
    .createHash("sha256")
    .update(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json")))
    .digest("hex");
  const stamp = path.join(PROJECT_ROOT, "node_modules/.geartrain-lock.sha256");
  const installed = fs.existsSync(stamp) ? fs.readFileSync(stamp, "utf8").trim() : "";
  if (installed !== lock) {
    throw new Error(
      `node_modules does not match package-lock.json: run \`npm run setup\` in ${PROJECT_ROOT} first`,
    );
  }
}
