// Streaming command output to the engine log, line by line, as `logging` allows. Like upstream, the
// lines are ephemeral status messages: the progress display shows them while the command runs, and
// the final Diagnostics block does not repeat them.

import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest } from "@pulumi/pulumi/proto/engine_pb";
import { sdkGrpc } from "./context";
import { Logging } from "./schema";

export type Severity = "debug" | "info" | "warning" | "error";

export interface LogSink {
  /**
   * `urn` is "" for messages not tied to a resource (e.g. an invoke). An `ephemeral` message is a
   * status line (command output), not a diagnostic kept for the end of the run.
   */
  log(severity: Severity, urn: string, message: string, ephemeral?: boolean): void;
}

/** Writes to the plugin's stderr, which the engine shows in its own log (verbose mode). */
export const stderrSink: LogSink = {
  log(severity, urn, message, ephemeral) {
    const kind = ephemeral ? `${severity} status` : severity;
    process.stderr.write(`[command ${kind}] ${urn ? urn + ": " : ""}${message}\n`);
  },
};

export function logsStdout(logging: Logging): boolean {
  return logging === "stdout" || logging === "stdoutAndStderr";
}

export function logsStderr(logging: Logging): boolean {
  return logging === "stderr" || logging === "stdoutAndStderr";
}

/** Which output streams of a run may be logged and quoted in an error message. */
export interface OutputVisibility {
  readonly stdout: boolean;
  readonly stderr: boolean;
  /** Why nothing is shown, for error messages; set when neither stream is. */
  readonly hiddenBecause?: string;
}

/** `logging` decides, unless the command was given a secret: then nothing is shown (secrecy.ts). */
export function outputVisibility(logging: Logging, seesSecret: boolean): OutputVisibility {
  if (seesSecret) {
    return { stdout: false, stderr: false, hiddenBecause: "the command was given a secret" };
  }
  if (logging === "none") {
    return { stdout: false, stderr: false, hiddenBecause: 'logging is "none"' };
  }
  return { stdout: logsStdout(logging), stderr: logsStderr(logging) };
}

/**
 * Collects one output stream of a command and, when `enabled`, forwards complete lines to the sink
 * and adds the stream to `interleaved` (both streams in arrival order, for error messages). The
 * collected text is returned whatever `enabled` says.
 */
export class StreamCollector {
  private readonly chunks: Buffer[] = [];
  private pending = "";

  constructor(
    private readonly sink: LogSink,
    private readonly urn: string,
    private readonly enabled: boolean,
    private readonly interleaved?: Buffer[],
  ) {}

  write(chunk: Buffer | string): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.chunks.push(buf);
    if (!this.enabled) {
      return;
    }
    this.interleaved?.push(buf);
    this.pending += buf.toString("utf8");
    let nl = this.pending.indexOf("\n");
    while (nl >= 0) {
      this.emit(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
      nl = this.pending.indexOf("\n");
    }
  }

  /** Flushes a trailing partial line and returns everything collected. */
  finish(): string {
    if (this.enabled && this.pending !== "") {
      this.emit(this.pending);
      this.pending = "";
    }
    return Buffer.concat(this.chunks).toString("utf8");
  }

  private emit(line: string): void {
    this.sink.log("info", this.urn, line.replace(/\r$/, ""), true);
  }
}

/** Output properties drop exactly one trailing newline, so `echo hi` gives "hi". */
export function trimTrailingNewline(s: string): string {
  if (s.endsWith("\r\n")) {
    return s.slice(0, -2);
  }
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

// ---------------------------------------------------------------------------------------------
// Engine log client. The provider server of @pulumi/pulumi does not give providers a logger, so we
// talk to the engine's Log RPC ourselves, with the gRPC library instance the SDK itself loads.

const SEVERITY_CODES: Record<Severity, number> = { debug: 0, info: 1, warning: 2, error: 3 };

export class EngineLogSink implements LogSink {
  private readonly client: EngineClient;
  private queue: Promise<void> = Promise.resolve();

  constructor(engineAddress: string) {
    this.client = new EngineClient(engineAddress, sdkGrpc().credentials.createInsecure());
  }

  log(severity: Severity, urn: string, message: string, ephemeral = false): void {
    const req = new LogRequest();
    req.setSeverity(SEVERITY_CODES[severity]);
    req.setMessage(message);
    req.setUrn(urn);
    req.setStreamid(0);
    req.setEphemeral(ephemeral);
    // Keep messages in order; never let a logging failure break an operation.
    this.queue = this.queue.then(
      () =>
        new Promise<void>((resolve) => {
          this.client.log(req, (err) => {
            if (err) {
              stderrSink.log(severity, urn, message, ephemeral);
            }
            resolve();
          });
        }),
    );
  }

  /** Resolves when every queued message has been delivered (or given up on). */
  flush(): Promise<void> {
    return this.queue;
  }
}

/** The engine address is the first argument that is not a flag the engine adds (same rule as the SDK). */
export function engineAddressFromArgs(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--logtostderr" || a.startsWith("-v=")) {
      continue;
    }
    if (a === "--tracing") {
      i++;
      continue;
    }
    return a;
  }
  return undefined;
}
