// The policy proxy over real loopback gRPC: an engine-side client talks to the proxy, which forwards
// to a fake policy pack served in this process.
import * as grpc from "@grpc/grpc-js";
import * as emptyProto from "google-protobuf/google/protobuf/empty_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient, AnalyzerService } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { PolicyProxy } from "../../../plugins/language-nodejs/policy-proxy";

type Callback = grpc.sendUnaryData<unknown>;

/** A pack that names itself and records the ConfigureStack it got (or refuses it, like old packs). */
async function startPack(options: { implementsConfigureStack: boolean }) {
  const seen: { stack?: string } = {};
  const server = new grpc.Server();
  server.addService(AnalyzerService, {
    getAnalyzerInfo: (_call: unknown, callback: Callback) =>
      callback(null, new analyzerProto.AnalyzerInfo().setName("fake-pack")),
    configureStack: (
      call: grpc.ServerUnaryCall<analyzerProto.AnalyzerStackConfigureRequest, unknown>,
      callback: Callback,
    ) => {
      if (!options.implementsConfigureStack) return callback({ code: grpc.status.UNIMPLEMENTED });
      seen.stack = call.request.getStack();
      callback(null, new analyzerProto.AnalyzerStackConfigureResponse());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, seen, close: () => server.forceShutdown() };
}

function call<Res>(fn: (cb: (err: grpc.ServiceError | null, res: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

describe("PolicyProxy", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()!();
  });

  async function setUp(implementsConfigureStack: boolean) {
    const proxy = await PolicyProxy.start();
    const pack = await startPack({ implementsConfigureStack });
    const engine = new AnalyzerClient(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure());
    cleanups.push(
      () => proxy.close(),
      pack.close,
      () => engine.close(),
    );
    return { proxy, pack, engine };
  }

  it("takes the stack from ConfigureStack, replays it to the pack and then forwards calls", async () => {
    const { proxy, pack, engine } = await setUp(true);
    await call((cb) => engine.handshake(new analyzerProto.AnalyzerHandshakeRequest(), cb));
    const request = new analyzerProto.AnalyzerStackConfigureRequest().setStack("dev").setProject("geartrain");
    request.getConfigMap().set("geartrain:owner", "ops");
    request.getConfigMap().set("geartrain:token", "t0k3n");
    request.setConfigSecretKeysList(["geartrain:token"]);
    await call((cb) => engine.configureStack(request, cb));
    expect(await proxy.configuration()).toEqual({
      organization: "",
      project: "geartrain",
      stack: "dev",
      dryRun: false,
      config: { "geartrain:owner": "ops", "geartrain:token": "t0k3n" },
      configSecretKeys: ["geartrain:token"],
    });

    const info = call<analyzerProto.AnalyzerInfo>((cb) => engine.getAnalyzerInfo(new emptyProto.Empty(), cb));
    await proxy.attach(pack.port);
    expect((await info).getName()).toBe("fake-pack");
    expect(pack.seen.stack).toBe("dev");
  });

  it("starts the pack without a stack when the engine calls anything else first", async () => {
    const { proxy, pack, engine } = await setUp(false);
    const info = call<analyzerProto.AnalyzerInfo>((cb) => engine.getAnalyzerInfo(new emptyProto.Empty(), cb));
    expect(await proxy.configuration()).toBeUndefined();
    await proxy.attach(pack.port);
    expect((await info).getName()).toBe("fake-pack");
  });

  it("accepts a pack that does not implement ConfigureStack", async () => {
    const { proxy, pack, engine } = await setUp(false);
    await call((cb) =>
      engine.configureStack(new analyzerProto.AnalyzerStackConfigureRequest().setStack("dev"), cb),
    );
    await expect(proxy.attach(pack.port)).resolves.toBeUndefined();
  });

  it("fails waiting calls when the pack did not start", async () => {
    const { proxy, engine } = await setUp(true);
    const info = call((cb) => engine.getAnalyzerInfo(new emptyProto.Empty(), cb));
    proxy.fail(new Error("the pack printed no port"));
    await expect(info).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: "policy pack not started: the pack printed no port",
    });
  });
});
