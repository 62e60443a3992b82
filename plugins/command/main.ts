// Entry point of the `pulumi-resource-command` plugin (see README.md in this folder).
//
// The engine starts the plugin with its own gRPC address as the first argument; `main` serves the
// ResourceProvider service on 127.0.0.1 and prints the chosen port on stdout (the handshake).
// Nothing else may be written to stdout before that line.

import { main } from "@pulumi/pulumi/provider";
import { withTimeoutHook } from "./context";
import { EngineLogSink, engineAddressFromArgs, stderrSink } from "./logging";
import { CommandProvider } from "./provider";

const args = process.argv.slice(2);
const engineAddress = engineAddressFromArgs(args);
const sink = engineAddress ? new EngineLogSink(engineAddress) : stderrSink;

// main() registers the gRPC service synchronously; the hook passes each request's customTimeouts on.
withTimeoutHook(() => main(new CommandProvider({ sink }), args)).catch((err: unknown) => {
  process.stderr.write(
    `pulumi-resource-command: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
