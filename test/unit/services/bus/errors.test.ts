// A failed reply comes back as the GeartrainError of its kind, with the node's message, field and details.

import {
  ConflictError,
  NotFoundError,
  OperationFailedError,
  UnavailableError,
  ValidationError,
  errorJson,
  reportOf,
} from "../../../../common/errors";
import { errorFromReply, RemoteNodeError } from "../../../../services/bus/errors";

const info = { node: "node1", action: "gear.create" as const, requestId: "r-12345678" };

test("each kind becomes its class with the node's own message", () => {
  const v = errorFromReply(
    { kind: "invalid", message: "invalid uid: out of range", field: "uid", exitCode: 3 },
    info,
  );
  expect(v).toBeInstanceOf(ValidationError);
  expect(v.message).toBe("invalid uid: out of range");
  expect(v.field).toBe("uid");
  expect(v.httpStatus).toBe(new ValidationError("uid", "x").httpStatus); // whatever the common class says
  expect(errorFromReply({ kind: "not_found", message: "m", exitCode: 4 }, info)).toBeInstanceOf(
    NotFoundError,
  );
  expect(errorFromReply({ kind: "conflict", message: "m", exitCode: 5 }, info)).toBeInstanceOf(ConflictError);
  const hook = errorFromReply(
    { kind: "hook_failed", message: "m", exitCode: 1, details: { hook: "setup" } },
    info,
  );
  expect(hook).toBeInstanceOf(OperationFailedError);
  expect(hook.kind).toBe("hook_failed");
  expect(errorJson(reportOf(hook))).toEqual({ error: { kind: "hook_failed", message: "m", hook: "setup" } });
  expect(errorFromReply({ kind: "unavailable", message: "m", exitCode: 1 }, info)).toBeInstanceOf(
    UnavailableError,
  );
  expect(hook.remote).toEqual(info);
});

test("kinds without a common class keep kind and exit code", () => {
  const e = errorFromReply({ kind: "invalid_cartridge", message: "bad manifest", exitCode: 3 }, info);
  expect(e).toBeInstanceOf(RemoteNodeError);
  expect([e.kind, e.exitCode, e.httpStatus]).toEqual([
    "invalid_cartridge",
    3,
    new ValidationError("f", "m").httpStatus,
  ]);
  const b = errorFromReply({ kind: "error", message: "boom", exitCode: 1 }, info);
  expect([b.kind, b.exitCode, b.httpStatus]).toEqual(["error", 1, 500]);
});
