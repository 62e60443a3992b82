// Runs the project's real Pulumi CLI (built by scripts/toolchain.sh) against a throwaway file
// backend, through scripts/env.sh so tests use exactly the environment users get.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "./repo-root";

// the checkout, from test/helpers under jest and from dist/test/helpers when a benchmark runs the build
export const PROJECT_ROOT = REPO_ROOT;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fails loudly, with the fixing command, when the toolchain has not been set up. */
export function requireToolchain(): void {
  const pulumi = path.join(PROJECT_ROOT, ".geartrain/bin/pulumi");
  const home = path.join(PROJECT_ROOT, ".pulumi-home/plugins");
  const plugin = path.join(home, "resource-command-v1.2.1/pulumi-resource-command");
  const languageHost = path.join(home, "language-nodejs-v3.248.0/pulumi-language-nodejs");
  // Where the engine looks for the bundled nodejs language host: next to the real binary.
  const shim = fs.existsSync(pulumi)
    ? path.join(path.dirname(fs.realpathSync(pulumi)), "pulumi-language-nodejs")
    : "";
  for (const file of [pulumi, plugin, languageHost, shim]) {
    if (!fs.existsSync(file)) {
      throw new Error(`${file} is missing: the Pulumi toolchain is not set up. Run \`npm run setup\` first.`);
    }
  }
}

export interface RunOptions {
  /** Pass `--stack` (and `--config-file` where it applies). @default true */
  readonly stackArgs?: boolean;
  /** More environment variables for this command. */
  readonly env?: Readonly<Record<string, string>>;
  /** Standard input of the command (`pulumi config set --secret KEY` reads a value from it: never argv). */
  readonly input?: string;
  /**
   * An argument array the command runs under, e.g. `unshare … sh -c '…; exec "$@"' …` (it must end by
   * running its remaining arguments: the CLI's own command line).
   */
  readonly launcher?: readonly string[];
}

export class PulumiSandbox {
  readonly dir: string;
  readonly configFile: string;
  private readonly env: NodeJS.ProcessEnv;
  private defaults: RunOptions = {};

  /** `stack` gets the process id appended, so parallel runs never share a config file name. */
  readonly stack: string;

  /**
   * @param stackConfigSource a Pulumi.<stack>.yaml-shaped file to start from (default: no config).
   * @param projectDir the Pulumi project to run (default: this repository's own).
   * @param sharedDir the folder (and so the file backend) of another sandbox: see {@link sibling}.
   */
  constructor(
    stack: string,
    stackConfigSource?: string,
    readonly projectDir: string = PROJECT_ROOT,
    sharedDir?: string,
  ) {
    this.stack = `${stack}-${process.pid}`;
    this.dir = sharedDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-"));
    fs.mkdirSync(path.join(this.dir, "state"), { recursive: true });
    this.configFile = path.join(this.dir, `Pulumi.${this.stack}.yaml`);
    if (stackConfigSource) fs.copyFileSync(stackConfigSource, this.configFile);
    else fs.writeFileSync(this.configFile, "config: {}\n");
    this.env = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${this.dir}/state`,
      PULUMI_CONFIG_PASSPHRASE: "geartrain-e2e-passphrase",
      PULUMI_CONFIG_PASSPHRASE_FILE: "",
    };
  }

  /**
   * `pulumi <args>` in the project directory with the sandbox's stack; commands that read stack config
   * (up, preview, refresh, destroy, config) also get the sandbox's config file.
   */
  run(args: string[], own: RunOptions = {}): CliResult {
    const options: RunOptions = { ...this.defaults, ...own, env: { ...this.defaults.env, ...own.env } };
    const extra: string[] = [];
    if (options.stackArgs !== false) extra.push("--stack", this.stack);
    if (options.stackArgs !== false && args[0] !== "stack") extra.push("--config-file", this.configFile);
    const [program, ...launcherArgs] = [...(options.launcher ?? []), "bash"];
    const result = spawnSync(
      program!,
      [
        ...launcherArgs,
        "-c",
        'source "$GEARTRAIN_ENV_SH" && exec pulumi "$@"',
        "pulumi",
        ...args,
        ...extra,
        "--non-interactive",
      ],
      {
        cwd: this.projectDir,
        env: { ...this.env, ...options.env, GEARTRAIN_ENV_SH: path.join(PROJECT_ROOT, "scripts/env.sh") },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        ...(options.input !== undefined ? { input: options.input } : {}),
      },
    );
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * Options every later command of this sandbox gets (a command's own options win, its `env` is merged):
   * what the engine's processes need to reach the stack's services, e.g. `NODE_EXTRA_CA_CERTS`.
   */
  setDefaults(defaults: RunOptions): void {
    this.defaults = defaults;
  }

  /** Like run, but throws with the CLI's output when it fails. */
  ok(args: string[], options: RunOptions = {}): CliResult {
    const result = this.run(args, options);
    if (result.code !== 0) {
      throw new Error(`pulumi ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    }
    return result;
  }

  /**
   * Puts a tracked topology (platforms/<stack>.yaml) into the sandbox's config as `geartrain:platform`:
   * the sandbox's stack has another name, so the program would not find the file by itself.
   */
  setPlatform(platformFile: string): void {
    const stackConfig = YAML.parse(fs.readFileSync(this.configFile, "utf8")) ?? {};
    const platform: unknown = YAML.parse(fs.readFileSync(platformFile, "utf8"));
    stackConfig.config = { ...stackConfig.config, "geartrain:platform": platform };
    fs.writeFileSync(this.configFile, YAML.stringify(stackConfig));
  }

  /**
   * Creates the stack. Pulumi writes the passphrase salt into Pulumi.<stack>.yaml in the project's stack
   * config folder (for this project: the user's, see scripts/env.sh); it is moved into the sandbox's
   * config file so nothing of the sandbox stays behind.
   */
  init(): void {
    this.ok(["stack", "init", this.stack, "--secrets-provider", "passphrase"], { stackArgs: false });
    const written = path.join(stackConfigDirOf(this.projectDir), `Pulumi.${this.stack}.yaml`);
    if (fs.existsSync(written)) {
      fs.appendFileSync(this.configFile, "\n" + fs.readFileSync(written, "utf8"));
      fs.rmSync(written);
    }
  }

  /**
   * Another stack of the same project in the same backend (StackReference between them works). It
   * shares this sandbox's folder, so either one's cleanup() removes both.
   */
  sibling(stack: string, stackConfigSource?: string): PulumiSandbox {
    return new PulumiSandbox(stack, stackConfigSource, this.projectDir, this.dir);
  }

  /** The stack's name as a StackReference names it in a file backend. */
  get qualifiedStack(): string {
    const project = YAML.parse(fs.readFileSync(path.join(this.projectDir, "Pulumi.yaml"), "utf8"));
    return `organization/${project.name}/${this.stack}`;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Where the engine reads and writes a project's Pulumi.<stack>.yaml files (Pulumi.yaml: stackConfigDir). */
function stackConfigDirOf(projectDir: string): string {
  const project = YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
  return path.join(projectDir, project.stackConfigDir ?? ".");
}
