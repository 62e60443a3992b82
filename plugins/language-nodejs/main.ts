// Entry point of Geartrain's `pulumi-language-nodejs` plugin. The engine starts it with optional
// `-flag value` pairs and the engine address as the last argument, and reads the port from stdout.
import * as grpc from "@grpc/grpc-js";
import { LanguageRuntimeService } from "@pulumi/pulumi/proto/language_grpc_pb";
import { createLanguageHost, HostState } from "./host";

/** Flags the engine may pass; all but `tracing` are superseded by Pulumi.yaml runtime options. */
const VALUE_FLAGS = new Set([
  "tracing",
  "root",
  "typescript",
  "tsconfig",
  "nodeargs",
  "packagemanager",
  "binary",
]);

export function parseHostArgs(argv: readonly string[]): HostState {
  const state: HostState = { engineAddress: "", tracing: "" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) {
      state.engineAddress = arg;
      continue;
    }
    const [, name, inline] = match;
    const value = inline ?? (VALUE_FLAGS.has(name) ? argv[++i] : "");
    if (name === "tracing") state.tracing = value ?? "";
  }
  return state;
}

function serve(state: HostState): void {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(LanguageRuntimeService, createLanguageHost(state));
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(`pulumi-language-nodejs: could not start the gRPC server: ${err.message}`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
  });
}

if (require.main === module) serve(parseHostArgs(process.argv.slice(2)));
