// The plugin as the engine sees it: the launcher finds the compiled provider (in its checkout, via
// GEARTRAIN_ROOT, or via a pulumi-resource-command.root file next to a copied launcher), the process
// prints its port (the handshake), and the gRPC calls the engine makes work on the wire, with command
// output arriving at the engine's Log service.
//
// The provider is compiled from the current sources into a temp "checkout" so the test never
// depends on (or writes) the shared dist/.

import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest } from "@pulumi/pulumi/proto/engine_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";

jest.setTimeout(240000);

const REPO = path.resolve(__dirname, "../../..");
const LAUNCHER = path.join(REPO, "plugins/bin/pulumi-resource-command");

let tmp: string;
let root: string; // the temp checkout: dist/ + node_modules symlink + plugins/bin/launcher
const children: ChildProcess[] = [];

interface LogEntry {
  severity: number;
  ephemeral: boolean;
  urn: string;
  message: string;
}
let engine: grpc.Server;
let engineAddress: string;
const engineLogs: LogEntry[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gt-plugin-"));
  root = path.join(tmp, "checkout");
  fs.mkdirSync(root);
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(root, "node_modules"));
  const tsconfig = path.join(root, "tsconfig.json");
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(REPO, "tsconfig.json"),
      compilerOptions: {
        rootDir: REPO,
        outDir: path.join(root, "dist"),
        declaration: false,
        sourceMap: false,
      },
      include: [path.join(REPO, "plugins/command/*.ts")],
      exclude: [],
    }),
  );
  execFileSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", tsconfig], {
    stdio: "pipe",
  });
  fs.mkdirSync(path.join(root, "plugins/bin"), { recursive: true });
  fs.copyFileSync(LAUNCHER, path.join(root, "plugins/bin/pulumi-resource-command"));
  fs.chmodSync(path.join(root, "plugins/bin/pulumi-resource-command"), 0o755);

  // A fake engine that records Log calls.
  engine = new grpc.Server();
  engine.addService(engrpc.EngineService, {
    log(call: grpc.ServerUnaryCall<LogRequest, emptyproto.Empty>, cb: grpc.sendUnaryData<emptyproto.Empty>) {
      const r = call.request;
      engineLogs.push({
        severity: r.getSeverity(),
        urn: r.getUrn(),
        message: r.getMessage(),
        ephemeral: r.getEphemeral(),
      });
      cb(null, new emptyproto.Empty());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    engine.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  engineAddress = `127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill("SIGKILL");
    }
  }
  await new Promise<void>((resolve) => (engine ? engine.tryShutdown(() => resolve()) : resolve()));
  if (tmp) {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** Starts a launcher and resolves with the port it printed (the plugin handshake). */
function launch(
  launcher: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(launcher, [engineAddress], {
    cwd: tmp,
    env: { ...process.env, GEARTRAIN_ROOT: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`no port within 60 s; stderr: ${err}`)), 60000);
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        const line = out.slice(0, nl).trim();
        if (/^\d+$/.test(line)) {
          resolve({ port: Number(line), child });
        } else {
          reject(new Error(`first stdout line is not a port: ${JSON.stringify(line)}`));
        }
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`launcher exited with ${code}; stderr: ${err}`));
    });
  });
}

function client(port: number): ResourceProviderClient {
  return new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;

/** Promise for one unary call: `call<T>((cb) => c.method(request, cb))`. */
function call<T>(start: (cb: Callback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => start((err, res) => (err ? reject(err) : resolve(res))));
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

const URN = "urn:pulumi:test::geartrain::command:local:Command::wire";

describe("pulumi-resource-command plugin", () => {
  it("starts from its checkout and speaks the provider protocol", async () => {
    const { port, child } = await launch(path.join(root, "plugins/bin/pulumi-resource-command"));
    expect(port).toBeGreaterThan(0);
    const c = client(port);

    const info = await call<PluginInfo>((cb) => c.getPluginInfo(new emptyproto.Empty(), cb));
    expect(info.getVersion()).toBe("1.2.1");

    const configured = await call<provproto.ConfigureResponse>((cb) =>
      c.configure(new provproto.ConfigureRequest(), cb),
    );
    expect(configured.getAcceptsecrets()).toBe(true);

    // CheckConfig is unimplemented by the SDK server; the engine treats that as "config is fine".
    await expect(
      call<provproto.CheckResponse>((cb) => c.checkConfig(new provproto.CheckRequest(), cb)),
    ).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });

    const schemaReq = new provproto.GetSchemaRequest();
    const schema = JSON.parse(
      (await call<provproto.GetSchemaResponse>((cb) => c.getSchema(schemaReq, cb))).getSchema(),
    );
    expect(schema).toMatchObject({ name: "command", version: "1.2.1" });
    expect(Object.keys(schema.resources).sort()).toEqual([
      "command:local:Command",
      "command:remote:Command",
      "command:remote:CopyToRemote",
    ]);

    // Check + Create over the wire, with a secret input: it stays a secret in the outputs, and what the
    // command printed is secret too.
    const secretEnv = { [specialSigKey]: specialSecretSig, value: { WORD: "hello" } };
    const inputs = { create: 'echo "$WORD from the wire"; echo to-stderr >&2', environment: secretEnv };
    const checkReq = new provproto.CheckRequest();
    checkReq.setUrn(URN);
    checkReq.setOlds(structproto.Struct.fromJavaScript({}));
    checkReq.setNews(structproto.Struct.fromJavaScript(inputs as never));
    const checked = await call<provproto.CheckResponse>((cb) => c.check(checkReq, cb));
    expect(checked.getFailuresList()).toEqual([]);

    const createReq = new provproto.CreateRequest();
    createReq.setUrn(URN);
    createReq.setProperties(checked.getInputs());
    const created = await call<provproto.CreateResponse>((cb) => c.create(createReq, cb));
    const outs = created.getProperties()?.toJavaScript();
    expect(created.getId()).toMatch(/^wire-/);
    expect(outs).toMatchObject({
      stdout: { [specialSigKey]: specialSecretSig, value: "hello from the wire" },
      stderr: { [specialSigKey]: specialSecretSig, value: "to-stderr" },
      environment: secretEnv,
    });

    // Diff: a trigger change replaces.
    const diffReq = new provproto.DiffRequest();
    diffReq.setId(created.getId());
    diffReq.setUrn(URN);
    diffReq.setOlds(created.getProperties());
    diffReq.setNews(structproto.Struct.fromJavaScript({ ...inputs, triggers: ["v2"] } as never));
    const diff = await call<provproto.DiffResponse>((cb) => c.diff(diffReq, cb));
    expect(diff.getChanges()).toBe(provproto.DiffResponse.DiffChanges.DIFF_SOME);
    expect(diff.getReplacesList()).toEqual(["triggers"]);

    // A failing command is an error carrying its stderr.
    const failReq = new provproto.CreateRequest();
    failReq.setUrn(URN);
    failReq.setProperties(structproto.Struct.fromJavaScript({ create: "echo nope >&2; exit 9" }));
    await expect(call<provproto.CreateResponse>((cb) => c.create(failReq, cb))).rejects.toThrow(
      'exit status 9: running "echo nope >&2; exit 9":\nnope\n',
    );

    // The request's timeout (customTimeouts) reaches the provider through the SDK server.
    const slowReq = new provproto.CreateRequest();
    slowReq.setUrn(URN);
    slowReq.setTimeout(1);
    slowReq.setProperties(structproto.Struct.fromJavaScript({ create: "sleep 30" }));
    const started = Date.now();
    await expect(call<provproto.CreateResponse>((cb) => c.create(slowReq, cb))).rejects.toThrow(
      /create command timed out after 1s \(customTimeouts\.create\)/,
    );
    expect(Date.now() - started).toBeLessThan(10000);

    // Output lines reached the engine's log, tied to the resource, as ephemeral status (upstream's);
    // none of the command that was given a secret.
    await new Promise((r) => setTimeout(r, 500));
    expect(engineLogs).toEqual(
      expect.arrayContaining([{ severity: 1, urn: URN, message: "nope", ephemeral: true }]),
    );
    expect(JSON.stringify(engineLogs)).not.toMatch(/from the wire|to-stderr/);

    c.close();
    await stop(child);
  });

  it('sends nothing to the engine log with logging "none"', async () => {
    const { port, child } = await launch(path.join(root, "plugins/bin/pulumi-resource-command"));
    const c = client(port);
    const req = new provproto.CreateRequest();
    req.setUrn(URN.replace("::wire", "::quiet"));
    req.setProperties(
      structproto.Struct.fromJavaScript({ create: "echo classified-output", logging: "none" }),
    );
    const created = await call<provproto.CreateResponse>((cb) => c.create(req, cb));
    expect(created.getProperties()?.toJavaScript().stdout).toBe("classified-output");
    await new Promise((r) => setTimeout(r, 300));
    expect(JSON.stringify(engineLogs)).not.toMatch(/classified-output/);
    c.close();
    await stop(child);
  });

  it("finds the checkout through GEARTRAIN_ROOT when the launcher is copied elsewhere", async () => {
    const elsewhere = path.join(tmp, "plugins-home-env");
    fs.mkdirSync(elsewhere);
    fs.copyFileSync(LAUNCHER, path.join(elsewhere, "pulumi-resource-command"));
    fs.chmodSync(path.join(elsewhere, "pulumi-resource-command"), 0o755);
    const { port, child } = await launch(path.join(elsewhere, "pulumi-resource-command"), {
      GEARTRAIN_ROOT: root,
    });
    const info = await call<PluginInfo>((cb) => client(port).getPluginInfo(new emptyproto.Empty(), cb));
    expect(info.getVersion()).toBe("1.2.1");
    await stop(child);
  });

  it("finds the checkout through a pulumi-resource-command.root file next to a copied launcher", async () => {
    const elsewhere = path.join(tmp, "plugins-home-file");
    fs.mkdirSync(elsewhere);
    fs.copyFileSync(LAUNCHER, path.join(elsewhere, "pulumi-resource-command"));
    fs.chmodSync(path.join(elsewhere, "pulumi-resource-command"), 0o755);
    fs.writeFileSync(path.join(elsewhere, "pulumi-resource-command.root"), root + "\n");
    const { port, child } = await launch(path.join(elsewhere, "pulumi-resource-command"));
    expect(port).toBeGreaterThan(0);
    await stop(child);
  });

  it("says how to fix it when it cannot find the compiled provider", async () => {
    const lost = path.join(tmp, "a", "b", "lost");
    fs.mkdirSync(lost, { recursive: true });
    fs.copyFileSync(LAUNCHER, path.join(lost, "pulumi-resource-command"));
    fs.chmodSync(path.join(lost, "pulumi-resource-command"), 0o755);
    await expect(launch(path.join(lost, "pulumi-resource-command"))).rejects.toThrow(
      /launcher exited with 1; stderr: .*dist\/plugins\/command\/main\.js not found: run 'npm run build'.*GEARTRAIN_ROOT/,
    );
  });
});
