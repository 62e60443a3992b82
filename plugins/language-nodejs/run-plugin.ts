// LanguageRuntime.RunPlugin: the engine asks the language host to run a plugin written in Node.js
// (a policy pack, or a provider in a directory with PulumiPlugin.yaml). The host runs the SDK's
// plugin runner and streams the plugin's stdout and stderr back; the engine reads the plugin's gRPC
// port from the first stdout line. Policy packs get the stack through PolicyProxy first.
import * as childProcess from "child_process";
import * as grpc from "@grpc/grpc-js";
import * as langProto from "@pulumi/pulumi/proto/language_pb";
import {
  buildPluginCommand,
  isPolicyPack,
  PluginSpec,
  pluginRunner,
  stackConfigurationEnv,
} from "./plugin-command";
import { PolicyProxy } from "./policy-proxy";
import { parsePort, PortLine } from "./port-line";
import { parseRuntimeOptions } from "./run-command";

type RunPluginCall = grpc.ServerWritableStream<langProto.RunPluginRequest, langProto.RunPluginResponse>;

/** How long a plugin the engine has let go of gets to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;

function toPluginSpec(req: langProto.RunPluginRequest): PluginSpec {
  const info = req.getInfo();
  const env = req.getEnvList();
  return {
    kind: req.getKind(),
    programDirectory: info?.getProgramDirectory() || req.getProgram() || req.getPwd(),
    pwd: req.getPwd(),
    args: req.getArgsList(),
    // No environment sent means "inherit", as for the upstream host.
    env: env.length > 0 ? env : Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ""}`),
    options: parseRuntimeOptions(info?.getOptions()?.toJavaScript() as Record<string, unknown> | undefined),
  };
}

function fail(call: RunPluginCall, details: string): void {
  call.emit("error", { code: grpc.status.UNKNOWN, details });
}

function stop(child: childProcess.ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }, STOP_GRACE_MS).unref();
}

class PluginRun {
  private proxy: PolicyProxy | undefined;
  private child: childProcess.ChildProcess | undefined;
  private cancelled = false;

  constructor(private readonly call: RunPluginCall) {
    // The engine ends a plugin by cancelling this call.
    call.on("cancelled", () => {
      this.cancelled = true;
      this.proxy?.close();
      if (this.child) stop(this.child);
    });
  }

  async run(): Promise<void> {
    const spec = toPluginSpec(this.call.request);
    const runner = pluginRunner(spec, process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH);
    let runPath: string;
    try {
      runPath = require.resolve(runner, { paths: [spec.programDirectory] });
    } catch {
      return fail(
        this.call,
        `could not find ${runner} from ${spec.programDirectory}: run \`npm install\` there first`,
      );
    }

    let stackEnv: Record<string, string> = {};
    if (isPolicyPack(spec)) {
      this.proxy = await PolicyProxy.start();
      this.send("stdout", Buffer.from(`${this.proxy.port}\n`));
      const stack = await this.proxy.configuration();
      if (stack) stackEnv = stackConfigurationEnv(stack);
    }
    if (this.cancelled) return;

    const command = buildPluginCommand(spec, runPath, stackEnv);
    const child = childProcess.spawn(process.execPath, command.argv, {
      cwd: command.cwd,
      env: command.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    let spawnError: Error | undefined;
    const portLine = this.proxy && new PortLine();
    child.stdout.on("data", (chunk: Buffer) => {
      if (!portLine) return this.send("stdout", chunk);
      const { line, rest } = portLine.feed(chunk);
      if (line !== undefined) this.attach(line);
      this.send("stdout", rest);
    });
    child.stderr.on("data", (chunk: Buffer) => this.send("stderr", chunk));
    child.on("error", (err) => {
      spawnError = err;
    });
    child.on("close", (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.proxy?.close(`the policy pack ${how} before it printed its port (its output is above)`);
      if (this.cancelled) return;
      if (spawnError) {
        fail(
          this.call,
          `Problem executing plugin program (could not run language executor): ${spawnError.message}`,
        );
      } else if (signal) fail(this.call, `Program exited unexpectedly: killed by ${signal}`);
      else if (code !== 0) fail(this.call, `Program exited with non-zero exit code: ${code}`);
      else {
        this.call.write(new langProto.RunPluginResponse().setExitcode(0));
        this.call.end();
      }
    });
  }

  /** The policy pack printed its port line: the proxy connects and starts forwarding. */
  private attach(line: string): void {
    const proxy = this.proxy;
    if (!proxy) return;
    const port = parsePort(line);
    const failed = (message: string) => {
      proxy.fail(new Error(message));
      this.send("stderr", Buffer.from(`${message}\n`));
      if (this.child) stop(this.child);
    };
    if (port === undefined)
      return failed(`the policy pack printed ${JSON.stringify(line)} instead of its port`);
    proxy.attach(port).catch((err: Error) => failed(err.message));
  }

  private send(stream: "stdout" | "stderr", data: Buffer): void {
    if (data.length === 0 || this.cancelled) return;
    const response = new langProto.RunPluginResponse();
    if (stream === "stdout") response.setStdout(data);
    else response.setStderr(data);
    this.call.write(response);
  }
}

/**
 * The RunPlugin handler. Plugins live until the engine cancels the call (or they exit); a program's
 * Cancel leaves them alone, and they share the host's process group, so they end with it.
 */
export const runPlugin: grpc.handleServerStreamingCall<
  langProto.RunPluginRequest,
  langProto.RunPluginResponse
> = (call) => {
  new PluginRun(call).run().catch((err: Error) => fail(call, err.message));
};
