// The LanguageRuntime gRPC service for Node.js programs: the engine asks it which plugins a
// program needs and to run the program. Running means spawning `node` on the SDK's runner,
// which talks to the engine's resource monitor directly.
import * as childProcess from "child_process";
import * as grpc from "@grpc/grpc-js";
import * as emptyProto from "google-protobuf/google/protobuf/empty_pb";
import * as langProto from "@pulumi/pulumi/proto/language_pb";
import * as pluginProto from "@pulumi/pulumi/proto/plugin_pb";
import { buildNodeCommand, EXIT_AFTER_USER_MESSAGE, parseRuntimeOptions, RunSpec } from "./run-command";
import { programDependencies } from "./dependencies";
import { installDependencies as npmInstall } from "./install";
import { findRequiredPackages } from "./required-packages";
import { runPlugin } from "./run-plugin";

/** Reported to the engine; matches the SDK this project pins so `pulumi about` reads sensibly. */
export const HOST_VERSION = "3.248.0";
const RUN_MODULE = "@pulumi/pulumi/cmd/run";

export interface HostState {
  engineAddress: string;
  tracing: string;
}

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/** `runtime.options` of Pulumi.yaml, as the engine sends them in a request's ProgramInfo. */
function runtimeOptions(info: langProto.ProgramInfo | undefined): Record<string, unknown> {
  return (info?.getOptions()?.toJavaScript() as Record<string, unknown> | undefined) ?? {};
}

function programDirectoryOf(info: langProto.ProgramInfo | undefined, fallback: string): string {
  return info?.getProgramDirectory() || fallback || process.cwd();
}

/** npm's version, or "" when it cannot be run (About must not fail for that). */
function npmVersion(): Promise<string> {
  return new Promise((resolve) => {
    childProcess.execFile("npm", ["--version"], { timeout: 30000 }, (err, stdout) =>
      resolve(err ? "" : stdout.trim()),
    );
  });
}

function toRunSpec(req: langProto.RunRequest, state: HostState): RunSpec {
  const info = req.getInfo();
  const rootDirectory = info?.getRootDirectory() || req.getPwd();
  const programDirectory = info?.getProgramDirectory() || req.getPwd();
  const config: Record<string, string> = {};
  req.getConfigMap().forEach((value, key) => {
    config[key] = value;
  });
  return {
    monitorAddress: req.getMonitorAddress(),
    engineAddress: state.engineAddress,
    organization: req.getOrganization(),
    project: req.getProject(),
    stack: req.getStack(),
    rootDirectory,
    programDirectory,
    entryPoint: info?.getEntryPoint() || req.getProgram() || ".",
    dryRun: req.getDryrun(),
    parallel: req.getParallel(),
    tracing: state.tracing,
    args: req.getArgsList(),
    config,
    configSecretKeys: req.getConfigsecretkeysList(),
    options: parseRuntimeOptions(runtimeOptions(info)),
  };
}

function resolveRunPath(spec: RunSpec): string {
  const override = process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH;
  if (override) return override;
  return require.resolve(RUN_MODULE, { paths: [spec.programDirectory, spec.rootDirectory] });
}

/** Spawns the program and resolves with the engine's RunResponse once it exits. */
function runProgram(spec: RunSpec, running: Set<childProcess.ChildProcess>): Promise<langProto.RunResponse> {
  const response = new langProto.RunResponse();
  let runPath: string;
  try {
    runPath = resolveRunPath(spec);
  } catch {
    response.setError(
      `could not find ${RUN_MODULE} from ${spec.programDirectory}: run \`npm ci\` in the project first`,
    );
    return Promise.resolve(response);
  }
  const command = buildNodeCommand(spec, runPath);
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, command.argv, {
      env: { ...process.env, ...command.env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    running.add(child);
    child.on("error", (err) => {
      response.setError(`Problem executing program (could not run language executor): ${err.message}`);
    });
    child.on("close", (code, signal) => {
      running.delete(child);
      if (code === EXIT_AFTER_USER_MESSAGE) response.setBail(true);
      else if (signal) response.setError(`Program exited unexpectedly: killed by ${signal}`);
      else if (code !== 0 && !response.getError()) {
        response.setError(`Program exited with non-zero exit code: ${code}`);
      }
      resolve(response);
    });
  });
}

export function createLanguageHost(state: HostState): grpc.UntypedServiceImplementation {
  const running = new Set<childProcess.ChildProcess>();

  const handshake: Unary<langProto.LanguageHandshakeRequest, langProto.LanguageHandshakeResponse> = (
    call,
    callback,
  ) => {
    state.engineAddress = call.request.getEngineAddress() || state.engineAddress;
    callback(null, new langProto.LanguageHandshakeResponse());
  };

  const getPluginInfo: Unary<emptyProto.Empty, pluginProto.PluginInfo> = (_call, callback) => {
    callback(null, new pluginProto.PluginInfo().setVersion(HOST_VERSION));
  };

  const getRequiredPackages: Unary<
    langProto.GetRequiredPackagesRequest,
    langProto.GetRequiredPackagesResponse
  > = (call, callback) => {
    const root = call.request.getInfo()?.getRootDirectory() || process.cwd();
    const packages = findRequiredPackages(root).map((p) =>
      new pluginProto.PackageDependency()
        .setKind("resource")
        .setName(p.name)
        .setVersion(p.version)
        .setServer(p.server),
    );
    callback(null, new langProto.GetRequiredPackagesResponse().setPackagesList(packages));
  };

  const getRequiredPlugins: Unary<
    langProto.GetRequiredPluginsRequest,
    langProto.GetRequiredPluginsResponse
  > = (call, callback) => {
    const root = call.request.getInfo()?.getRootDirectory() || call.request.getPwd() || process.cwd();
    const plugins = findRequiredPackages(root).map((p) =>
      new pluginProto.PluginDependency()
        .setKind("resource")
        .setName(p.name)
        .setVersion(p.version)
        .setServer(p.server),
    );
    callback(null, new langProto.GetRequiredPluginsResponse().setPluginsList(plugins));
  };

  const run: Unary<langProto.RunRequest, langProto.RunResponse> = (call, callback) => {
    runProgram(toRunSpec(call.request, state), running).then(
      (response) => callback(null, response),
      (err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }),
    );
  };

  // Like upstream: the node binary and `node --version`, and the package manager with its version.
  const about: Unary<langProto.AboutRequest, langProto.AboutResponse> = (_call, callback) => {
    npmVersion().then((version) => {
      const response = new langProto.AboutResponse()
        .setExecutable(process.execPath)
        .setVersion(process.version);
      response.getMetadataMap().set("packagemanager", "npm");
      if (version) response.getMetadataMap().set("packagemanagerVersion", version);
      callback(null, response);
    });
  };

  const installDependencies: grpc.handleServerStreamingCall<
    langProto.InstallDependenciesRequest,
    langProto.InstallDependenciesResponse
  > = (call) => {
    const info = call.request.getInfo();
    const write = (set: (r: langProto.InstallDependenciesResponse) => void) => {
      const response = new langProto.InstallDependenciesResponse();
      set(response);
      call.write(response);
    };
    npmInstall(programDirectoryOf(info, call.request.getDirectory()), runtimeOptions(info).packagemanager, {
      stdout: (chunk) => write((r) => r.setStdout(chunk)),
      stderr: (chunk) => write((r) => r.setStderr(chunk)),
    }).then(
      () => call.end(),
      (err: Error) => call.emit("error", { code: grpc.status.UNKNOWN, details: err.message }),
    );
  };

  const getProgramDependencies: Unary<
    langProto.GetProgramDependenciesRequest,
    langProto.GetProgramDependenciesResponse
  > = (call, callback) => {
    try {
      const info = call.request.getInfo();
      const dependencies = programDependencies(
        programDirectoryOf(info, call.request.getPwd()),
        call.request.getTransitivedependencies(),
      ).map((d) => new langProto.DependencyInfo().setName(d.name).setVersion(d.version));
      callback(null, new langProto.GetProgramDependenciesResponse().setDependenciesList(dependencies));
    } catch (err) {
      callback({
        code: grpc.status.UNKNOWN,
        details: `failed to get node dependencies: ${(err as Error).message}`,
      });
    }
  };

  const cancel: Unary<emptyProto.Empty, emptyProto.Empty> = (_call, callback) => {
    for (const child of running) child.kill("SIGINT");
    callback(null, new emptyProto.Empty());
  };

  return {
    handshake,
    getPluginInfo,
    getRequiredPackages,
    getRequiredPlugins,
    run,
    runPlugin,
    about,
    installDependencies,
    getProgramDependencies,
    cancel,
  };
}
