// The engine talks to a policy pack as an Analyzer gRPC service and tells it about the stack only
// through the ConfigureStack call, but the SDK's policy pack runner reads the stack from its
// environment at start. So, as the upstream host does, the language host first serves a small
// Analyzer itself: it answers Handshake, takes ConfigureStack, then lets the caller start the pack
// with that environment and forwards every call to the pack once it is up.
import * as grpc from "@grpc/grpc-js";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerService } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { StackConfiguration } from "./plugin-command";

/** Methods the proxy answers itself; every other Analyzer method goes to the pack. */
const LOCAL_METHODS = new Set(["handshake", "configureStack"]);

type Callback = grpc.sendUnaryData<unknown>;

/** As large as the engine sends (whole stacks go to AnalyzeStack). */
const MAX_MESSAGE = 400 * 1024 * 1024;

/** How long calls in flight may take to finish when the proxy closes. */
const CLOSE_GRACE_MS = 2000;

function toStackConfiguration(req: analyzerProto.AnalyzerStackConfigureRequest): StackConfiguration {
  const config: Record<string, string> = {};
  req.getConfigMap().forEach((value, key) => {
    config[key] = value;
  });
  return {
    organization: req.getOrganization(),
    project: req.getProject(),
    stack: req.getStack(),
    dryRun: req.getDryRun(),
    config,
    configSecretKeys: req.getConfigSecretKeysList(),
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class PolicyProxy {
  private readonly configured = deferred<analyzerProto.AnalyzerStackConfigureRequest | undefined>();
  private readonly attached = deferred<grpc.Client>();
  private client: grpc.Client | undefined;

  private readonly server = new grpc.Server({ "grpc.max_receive_message_length": MAX_MESSAGE });
  /** The loopback port the engine is to connect to; set by start(). */
  port = 0;

  private constructor() {
    this.server.addService(AnalyzerService, this.handlers());
  }

  /** Starts the proxy on a free loopback port. */
  static start(): Promise<PolicyProxy> {
    const proxy = new PolicyProxy();
    return new Promise((resolve, reject) => {
      proxy.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) return reject(err);
        proxy.port = port;
        resolve(proxy);
      });
    });
  }

  /**
   * The stack as the engine described it; undefined when the engine called anything else first
   * (it does for `pulumi policy publish`, where there is no stack).
   */
  async configuration(): Promise<StackConfiguration | undefined> {
    const req = await this.configured.promise;
    return req && toStackConfiguration(req);
  }

  /** Connects to the started pack and replays ConfigureStack, which the pack may not implement. */
  async attach(packPort: number): Promise<void> {
    const client = new grpc.Client(`127.0.0.1:${packPort}`, grpc.credentials.createInsecure());
    this.client = client;
    const stack = await this.configured.promise;
    if (stack) {
      const def = AnalyzerService.configureStack;
      await new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, stack, (err) => {
          if (err && err.code !== grpc.status.UNIMPLEMENTED) {
            reject(new Error(`policy pack configuration failed: ${err.details || err.message}`));
          } else resolve();
        });
      });
    }
    this.attached.resolve(client);
  }

  /** Fails the calls waiting for the pack (it did not start). */
  fail(err: Error): void {
    this.attached.reject(err);
  }

  /** Stops serving; calls still waiting for the pack get `reason` before the connection goes. */
  close(reason = "the policy pack has exited"): void {
    this.configured.resolve(undefined);
    this.attached.reject(new Error(reason));
    const force = setTimeout(() => this.server.forceShutdown(), CLOSE_GRACE_MS);
    force.unref();
    this.server.tryShutdown(() => {
      clearTimeout(force);
      this.client?.close();
    });
  }

  private handlers(): grpc.UntypedServiceImplementation {
    // Rejections before anyone waits must not crash the host.
    this.attached.promise.catch(() => undefined);
    const handlers: grpc.UntypedServiceImplementation = {
      handshake: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: Callback) => {
        callback(null, new analyzerProto.AnalyzerHandshakeResponse());
      },
      configureStack: (
        call: grpc.ServerUnaryCall<analyzerProto.AnalyzerStackConfigureRequest, unknown>,
        callback: Callback,
      ) => {
        this.configured.resolve(call.request);
        callback(null, new analyzerProto.AnalyzerStackConfigureResponse());
      },
    };
    for (const [name, def] of Object.entries(AnalyzerService)) {
      if (LOCAL_METHODS.has(name)) continue;
      handlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: Callback) => {
        this.configured.resolve(undefined);
        this.attached.promise.then(
          (client) => {
            const forwarded = client.makeUnaryRequest(
              def.path,
              def.requestSerialize,
              def.responseDeserialize,
              call.request,
              (err, response) => callback(err, response),
            );
            call.on("cancelled", () => forwarded.cancel());
          },
          (err: Error) =>
            callback({ code: grpc.status.UNAVAILABLE, details: `policy pack not started: ${err.message}` }),
        );
      };
    }
    return handlers;
  }
}
