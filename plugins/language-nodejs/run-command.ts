// Pure translation of an engine RunRequest into the `node` command line and environment that the
// Pulumi Node.js SDK's program runner (`@pulumi/pulumi/cmd/run`) expects. Kept free of gRPC types
// so it can be unit-tested and reasoned about on its own.

/** The parts of a RunRequest that decide how the program is launched. */
export interface RunSpec {
  readonly monitorAddress: string;
  readonly engineAddress: string;
  readonly organization: string;
  readonly project: string;
  readonly stack: string;
  readonly rootDirectory: string;
  readonly programDirectory: string;
  readonly entryPoint: string;
  readonly dryRun: boolean;
  readonly parallel: number;
  readonly tracing: string;
  readonly args: readonly string[];
  readonly config: Readonly<Record<string, string>>;
  readonly configSecretKeys: readonly string[];
  readonly options: RuntimeOptions;
}

/** `runtime.options` from Pulumi.yaml that this host understands. */
export interface RuntimeOptions {
  /** Run TypeScript through ts-node (the SDK's default). */
  readonly typescript: boolean;
  /** tsconfig.json path, relative to the program directory. */
  readonly tsconfig?: string;
  /** Extra arguments for `node`, whitespace separated (no shell quoting is interpreted). */
  readonly nodeargs?: string;
}

export interface NodeCommand {
  readonly argv: string[];
  readonly env: Record<string, string>;
}

/** Reads `runtime.options`; unknown keys are ignored like the upstream host does. */
export function parseRuntimeOptions(raw: Record<string, unknown> | undefined): RuntimeOptions {
  const options = raw ?? {};
  const typescript = options.typescript === undefined ? true : options.typescript === true;
  const tsconfig = typeof options.tsconfig === "string" ? options.tsconfig : undefined;
  const nodeargs = typeof options.nodeargs === "string" ? options.nodeargs : undefined;
  return { typescript, tsconfig, nodeargs };
}

/** Builds `node [nodeargs] <runPath> --flag value ... <entryPoint> [args]` and the extra environment. */
export function buildNodeCommand(spec: RunSpec, runPath: string): NodeCommand {
  const argv: string[] = spec.options.nodeargs ? spec.options.nodeargs.split(/\s+/).filter(Boolean) : [];
  argv.push(runPath);
  const flag = (name: string, value: string) => {
    if (value !== "") argv.push(`--${name}`, value);
  };
  flag("monitor", spec.monitorAddress);
  flag("engine", spec.engineAddress);
  flag("organization", spec.organization);
  flag("project", spec.project);
  flag("root-directory", spec.rootDirectory);
  flag("stack", spec.stack);
  flag("pwd", spec.programDirectory);
  if (spec.dryRun) argv.push("--dry-run");
  flag("parallel", String(spec.parallel));
  flag("tracing", spec.tracing);
  argv.push(spec.entryPoint || ".", ...spec.args);

  const env: Record<string, string> = {
    PULUMI_CONFIG: JSON.stringify(spec.config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(spec.configSecretKeys),
  };
  if (spec.options.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (spec.options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = spec.options.tsconfig;
  return { argv, env };
}

/** The SDK exits with this code after it has already shown the user an actionable message. */
export const EXIT_AFTER_USER_MESSAGE = 32;
