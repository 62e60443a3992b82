// Per-request context the SDK's provider server does not pass on: the engine's `timeout` (from the
// resource's customTimeouts) on Create, Update and Delete requests.
//
// `@pulumi/pulumi/provider`'s `main` hands only URN and properties to the provider. We wrap the
// gRPC service implementation it registers so that each Create/Update/Delete runs inside an
// AsyncLocalStorage scope carrying the request's timeout. If the SDK internals ever change so that
// the hook cannot attach, everything still works, just without customTimeouts.

import type * as grpcTypes from "@grpc/grpc-js";
import { AsyncLocalStorage } from "async_hooks";
import * as path from "path";

export interface OperationContext {
  /** Seconds the engine allows for this operation (customTimeouts); undefined or 0: no limit. */
  timeoutSeconds?: number;
}

export const operationContext = new AsyncLocalStorage<OperationContext>();

/** Runs `fn` with the given operation context (used by the hook and by tests). */
export function withOperationContext<T>(ctx: OperationContext, fn: () => T): T {
  return operationContext.run(ctx, fn);
}

interface TimedRequest {
  getTimeout?: () => number;
}

type UnaryHandler = (call: { request: TimedRequest }, callback: unknown) => unknown;

const TIMED_METHODS = ["create", "update", "delete"];

/** The @grpc/grpc-js instance that @pulumi/pulumi itself loads. */
export function sdkGrpc(): typeof grpcTypes {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] })) as typeof grpcTypes;
}

/** Wraps a ResourceProvider service implementation so timed methods see their request timeout. */
export function wrapImplementation(impl: Record<string, unknown>): Record<string, unknown> {
  const wrapped: Record<string, unknown> = Object.create(impl);
  for (const name of TIMED_METHODS) {
    const original = impl[name];
    if (typeof original !== "function") {
      continue;
    }
    wrapped[name] = (call: { request: TimedRequest }, callback: unknown) => {
      const t = call?.request?.getTimeout?.();
      const ctx = { timeoutSeconds: typeof t === "number" && t > 0 ? t : undefined };
      return operationContext.run(ctx, () => (original as UnaryHandler).call(impl, call, callback));
    };
  }
  return wrapped;
}

/**
 * Runs `start` (which must synchronously register the provider service, as `main` does) with
 * `grpc.Server.prototype.addService` wrapped so the registered implementation is wrapped too.
 */
export function withTimeoutHook<T>(start: () => T): T {
  let proto: { addService: (...a: unknown[]) => unknown } | undefined;
  let original: ((...a: unknown[]) => unknown) | undefined;
  try {
    proto = sdkGrpc().Server.prototype as unknown as { addService: (...a: unknown[]) => unknown };
    original = proto.addService;
  } catch {
    return start();
  }
  const orig = original;
  proto.addService = function (this: unknown, service: unknown, implementation: unknown, ...rest: unknown[]) {
    const impl =
      typeof implementation === "object" && implementation !== null
        ? wrapImplementation(implementation as Record<string, unknown>)
        : implementation;
    return orig.call(this, service, impl, ...rest);
  };
  try {
    return start();
  } finally {
    proto.addService = orig;
  }
}
