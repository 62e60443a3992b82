import {
  buildPluginCommand,
  envFromList,
  PLUGIN_RUNNER,
  PluginSpec,
  pluginRunner,
  POLICY_PACK_RUNNER,
  stackConfigurationEnv,
} from "../../../plugins/language-nodejs/plugin-command";
import { parseRuntimeOptions } from "../../../plugins/language-nodejs/run-command";

const provider: PluginSpec = {
  kind: "resource",
  programDirectory: "/plugins/greet",
  pwd: "/project",
  args: ["127.0.0.1:4000"],
  env: ["PATH=/usr/bin", "HOME=/root"],
  options: parseRuntimeOptions({ typescript: false }),
};
const pack: PluginSpec = { ...provider, kind: "analyzer", programDirectory: "/packs/p" };

describe("pluginRunner", () => {
  it("runs policy packs with the SDK's policy runner, whatever the override", () => {
    expect(pluginRunner(pack, "/custom/run.js")).toBe(POLICY_PACK_RUNNER);
  });

  it("runs other plugins with the SDK's plugin runner unless overridden", () => {
    expect(pluginRunner(provider, undefined)).toBe(PLUGIN_RUNNER);
    expect(pluginRunner(provider, "/custom/run.js")).toBe("/custom/run.js");
  });
});

describe("buildPluginCommand", () => {
  it("puts a provider's directory before the engine's arguments and runs it in the engine's directory", () => {
    expect(buildPluginCommand(provider, "/run-plugin.js")).toEqual({
      argv: ["/run-plugin.js", "/plugins/greet", "127.0.0.1:4000"],
      env: { PATH: "/usr/bin", HOME: "/root" },
      cwd: "/project",
    });
  });

  it("puts a policy pack's directory last and runs it in the pack's directory with the stack env", () => {
    const command = buildPluginCommand(pack, "/run-policy-pack.js", { PULUMI_NODEJS_STACK: "dev" });
    expect(command.argv).toEqual(["/run-policy-pack.js", "127.0.0.1:4000", "/packs/p"]);
    expect(command.cwd).toBe("/packs/p");
    expect(command.env.PULUMI_NODEJS_STACK).toBe("dev");
  });

  it("passes node arguments to node and TypeScript options to the runner", () => {
    const spec = {
      ...provider,
      options: parseRuntimeOptions({
        nodeargs: "--max-old-space-size=256  --no-warnings",
        tsconfig: "tsconfig.plugin.json",
      }),
    };
    const command = buildPluginCommand(spec, "/run-plugin.js");
    expect(command.argv.slice(0, 3)).toEqual(["--max-old-space-size=256", "--no-warnings", "/run-plugin.js"]);
    expect(command.env).toMatchObject({
      PULUMI_NODEJS_TYPESCRIPT: "true",
      PULUMI_NODEJS_TSCONFIG_PATH: "tsconfig.plugin.json",
    });
  });
});

describe("envFromList", () => {
  it("splits at the first '=', keeps the last of a repeated key and drops malformed entries", () => {
    expect(envFromList(["A=1", "B=x=y", "A=2", "BROKEN", "=v"])).toEqual({ A: "2", B: "x=y" });
  });
});

describe("stackConfigurationEnv", () => {
  it("gives the policy pack runner the stack, project, preview flag, config and its secret keys", () => {
    const env = stackConfigurationEnv({
      organization: "",
      project: "geartrain",
      stack: "dev",
      dryRun: true,
      config: { "geartrain:owner": "ops", "geartrain:token": "t0k3n" },
      configSecretKeys: ["geartrain:token"],
    });
    expect(env).toEqual({
      PULUMI_NODEJS_PROJECT: "geartrain",
      PULUMI_NODEJS_STACK: "dev",
      PULUMI_NODEJS_DRY_RUN: "true",
      PULUMI_CONFIG: '{"geartrain:owner":"ops","geartrain:token":"t0k3n"}',
      PULUMI_CONFIG_SECRET_KEYS: '["geartrain:token"]',
    });
  });
});
