// Pure translation of an engine RunPluginRequest (a policy pack, or a provider plugin written in
// Node.js) into the `node` command line, environment and working directory that the SDK's plugin
// runners expect. Kept free of gRPC types so it can be unit-tested on its own.
import { RuntimeOptions } from "./run-command";

/** The plugin kind the engine sends for policy packs. */
export const ANALYZER_KIND = "analyzer";

/** Runner modules the Node.js SDK ships, resolved from the plugin's own directory. */
export const POLICY_PACK_RUNNER = "@pulumi/pulumi/cmd/run-policy-pack";
export const PLUGIN_RUNNER = "@pulumi/pulumi/cmd/run-plugin";

/** The parts of a RunPluginRequest that decide how the plugin is launched. */
export interface PluginSpec {
  readonly kind: string;
  /** The plugin's directory (where PulumiPlugin.yaml or PulumiPolicy.yaml is). */
  readonly programDirectory: string;
  /** The engine's working directory. */
  readonly pwd: string;
  readonly args: readonly string[];
  /** The whole environment the engine wants the plugin to have, as `KEY=VALUE` entries. */
  readonly env: readonly string[];
  readonly options: RuntimeOptions;
}

/** What the engine told the policy pack about the stack (AnalyzerStackConfigureRequest). */
export interface StackConfiguration {
  readonly organization: string;
  readonly project: string;
  readonly stack: string;
  readonly dryRun: boolean;
  readonly config: Readonly<Record<string, string>>;
  /** the config keys whose values are secrets (AnalyzerStackConfigureRequest config_secret_keys) */
  readonly configSecretKeys: readonly string[];
}

export interface PluginCommand {
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
}

export function isPolicyPack(spec: PluginSpec): boolean {
  return spec.kind === ANALYZER_KIND;
}

/** The runner module: policy packs always use the SDK's; others may be overridden like `Run`. */
export function pluginRunner(spec: PluginSpec, override: string | undefined): string {
  if (isPolicyPack(spec)) return POLICY_PACK_RUNNER;
  return override || PLUGIN_RUNNER;
}

/** `KEY=VALUE` entries to a map; later entries win, entries without `=` are dropped. */
export function envFromList(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/**
 * The variables through which the SDK's policy pack runner learns the stack (`pulumi.getStack()`,
 * `new pulumi.Config()`): the engine sends them over gRPC, older policy libraries read them here.
 */
export function stackConfigurationEnv(stack: StackConfiguration): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (key: string, value: string) => {
    if (value !== "") env[key] = value;
  };
  set("PULUMI_NODEJS_ORGANIZATION", stack.organization);
  set("PULUMI_NODEJS_PROJECT", stack.project);
  set("PULUMI_NODEJS_STACK", stack.stack);
  set("PULUMI_NODEJS_DRY_RUN", String(stack.dryRun));
  set("PULUMI_CONFIG", JSON.stringify(stack.config));
  // As for programs (`Run`): which of those values are secrets, so the pack can tell plain config apart.
  set("PULUMI_CONFIG_SECRET_KEYS", JSON.stringify(stack.configSecretKeys));
  return env;
}

/**
 * `node [nodeargs] <runner> <dir> [args]` for provider plugins, run in the engine's directory;
 * `node [nodeargs] <runner> [args] <dir>` for policy packs, run in the pack's directory (the
 * runner's argument order and the directory policy packs have always been run in).
 */
export function buildPluginCommand(
  spec: PluginSpec,
  runPath: string,
  stackEnv: Readonly<Record<string, string>> = {},
): PluginCommand {
  const argv: string[] = spec.options.nodeargs ? spec.options.nodeargs.split(/\s+/).filter(Boolean) : [];
  argv.push(runPath);
  if (isPolicyPack(spec)) argv.push(...spec.args, spec.programDirectory);
  else argv.push(spec.programDirectory, ...spec.args);

  const env = envFromList(spec.env);
  if (spec.options.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (spec.options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = spec.options.tsconfig;
  Object.assign(env, stackEnv);
  return { argv, env, cwd: isPolicyPack(spec) ? spec.programDirectory : spec.pwd || spec.programDirectory };
}
