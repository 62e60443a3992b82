import { buildNodeCommand, parseRuntimeOptions, RunSpec } from "../../../plugins/language-nodejs/run-command";

const base: RunSpec = {
  monitorAddress: "127.0.0.1:1111",
  engineAddress: "127.0.0.1:2222",
  organization: "organization",
  project: "geartrain",
  stack: "dev",
  rootDirectory: "/p",
  programDirectory: "/p/stacks",
  entryPoint: ".",
  dryRun: false,
  parallel: 16,
  tracing: "",
  args: [],
  config: { "geartrain:domain": "apps.test" },
  configSecretKeys: ["geartrain:sshPrivateKey"],
  options: parseRuntimeOptions(undefined),
};

describe("buildNodeCommand", () => {
  it("passes every run flag the SDK runner reads, then the entry point", () => {
    const { argv } = buildNodeCommand(base, "/run.js");
    expect(argv).toEqual([
      "/run.js",
      "--monitor",
      "127.0.0.1:1111",
      "--engine",
      "127.0.0.1:2222",
      "--organization",
      "organization",
      "--project",
      "geartrain",
      "--root-directory",
      "/p",
      "--stack",
      "dev",
      "--pwd",
      "/p/stacks",
      "--parallel",
      "16",
      ".",
    ]);
  });

  it("marks previews as dry runs and appends program arguments after the entry point", () => {
    const { argv } = buildNodeCommand({ ...base, dryRun: true, args: ["a", "b"] }, "/run.js");
    expect(argv).toContain("--dry-run");
    expect(argv.slice(-3)).toEqual([".", "a", "b"]);
  });

  it("puts node arguments before the runner and omits empty flags", () => {
    const spec = {
      ...base,
      organization: "",
      options: parseRuntimeOptions({ nodeargs: "--max-old-space-size=512  --trace-warnings" }),
    };
    const { argv } = buildNodeCommand(spec, "/run.js");
    expect(argv.slice(0, 3)).toEqual(["--max-old-space-size=512", "--trace-warnings", "/run.js"]);
    expect(argv).not.toContain("--organization");
  });

  it("hands config and secret keys over as JSON and enables TypeScript by default", () => {
    const { env } = buildNodeCommand(base, "/run.js");
    expect(JSON.parse(env.PULUMI_CONFIG)).toEqual({ "geartrain:domain": "apps.test" });
    expect(JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS)).toEqual(["geartrain:sshPrivateKey"]);
    expect(env.PULUMI_NODEJS_TYPESCRIPT).toBe("true");
  });

  it("honours typescript: false and a tsconfig path", () => {
    const { env } = buildNodeCommand(
      { ...base, options: parseRuntimeOptions({ typescript: false, tsconfig: "tsconfig.pulumi.json" }) },
      "/run.js",
    );
    expect(env.PULUMI_NODEJS_TYPESCRIPT).toBeUndefined();
    expect(env.PULUMI_NODEJS_TSCONFIG_PATH).toBe("tsconfig.pulumi.json");
  });
});
