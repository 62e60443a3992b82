// The one error model: each class carries kind, exit code and HTTP status; failFor prints and returns them.
import { parseArgs } from "util";
import { failFor, type FailIo } from "../../../common/cli-fail";
import {
  ConflictError,
  errorJson,
  EXIT,
  GeartrainError,
  NotFoundError,
  OperationFailedError,
  RefusedError,
  reportOf,
  UnavailableError,
  UsageError,
  ValidationError,
} from "../../../common/errors";

describe("error classes", () => {
  it.each([
    [new UsageError("unknown command"), "usage", 2, 400],
    [new ValidationError("uuid", "must be hex"), "invalid", 3, 422],
    [new NotFoundError("gear x not found"), "not_found", 4, 404],
    [new ConflictError("uid taken"), "conflict", 5, 409],
    [new OperationFailedError("it broke"), "failed", 1, 500],
    [new OperationFailedError("hook broke", "hook_failed"), "hook_failed", 1, 500],
    [new UnavailableError("no nft"), "unavailable", 1, 503],
    [new RefusedError("not git"), "refused", 1, 403],
  ])("%p is kind %p, exit %p, HTTP %p", (err, kind, exitCode, httpStatus) => {
    expect(err).toBeInstanceOf(GeartrainError);
    expect(err).toBeInstanceOf(Error);
    expect({ kind: err.kind, exitCode: err.exitCode, httpStatus: err.httpStatus }).toEqual({
      kind,
      exitCode,
      httpStatus,
    });
  });

  it("a ValidationError names its field in the message and in `field`", () => {
    const e = new ValidationError("env.FOO", "contains NUL");
    expect(e.message).toBe("invalid env.FOO: contains NUL");
    expect(e.field).toBe("env.FOO");
    expect(e.name).toBe("ValidationError");
    expect(new NotFoundError("x").field).toBeUndefined();
  });

  it("a subclass is named after itself and keeps its parent's class", () => {
    class GearGoneError extends NotFoundError {}
    const e = new GearGoneError("gone");
    expect([e.name, e.kind, e.exitCode, e instanceof NotFoundError]).toEqual([
      "GearGoneError",
      "not_found",
      EXIT.NOT_FOUND,
      true,
    ]);
  });

  it("exit codes are distinct per meaning, 0 and 6 being results", () => {
    expect(EXIT).toEqual({
      OK: 0,
      FAILED: 1,
      USAGE: 2,
      INVALID: 3,
      NOT_FOUND: 4,
      CONFLICT: 5,
      DRIFT: 6,
      CHANGES: 7,
      POLICY: 8,
    });
  });
});

describe("reportOf", () => {
  it("reports an error of no Geartrain kind as kind error, exit 1, HTTP 500", () => {
    expect(reportOf(new TypeError("x is undefined"))).toEqual({
      kind: "error",
      exitCode: 1,
      httpStatus: 500,
      message: "x is undefined",
      details: {},
    });
    expect(reportOf("a string")).toMatchObject({ kind: "error", exitCode: 1, message: "a string" });
    expect(reportOf(null)).toMatchObject({ kind: "error", exitCode: 1, message: "null" });
  });

  it("reports parseArgs' errors as usage errors", () => {
    let thrown: unknown;
    try {
      parseArgs({ args: ["--bogus"], options: {}, strict: true });
    } catch (e) {
      thrown = e;
    }
    expect(reportOf(thrown)).toMatchObject({
      kind: "usage",
      exitCode: 2,
      message: /Unknown option '--bogus'/,
    });
  });

  it("carries details beside kind, message and field in the JSON", () => {
    class WithDetails extends OperationFailedError {
      override details(): Record<string, unknown> {
        return { hook: "bin/setup", exitCode: 7 };
      }
    }
    expect(errorJson(reportOf(new WithDetails("boom", "hook_failed")))).toEqual({
      error: { kind: "hook_failed", message: "boom", hook: "bin/setup", exitCode: 7 },
    });
    expect(errorJson(reportOf(new ValidationError("uid", "too big")))).toEqual({
      error: { kind: "invalid", message: "invalid uid: too big", field: "uid" },
    });
  });
});

describe("failFor", () => {
  function capture(): FailIo & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) };
  }

  it("prints the JSON error on stdout, one line on stderr, and returns the error's exit code", () => {
    const io = capture();
    expect(failFor(new ValidationError("app", "must start with a letter"), { program: "gt x", io })).toBe(3);
    expect(JSON.parse(io.out.join("\n"))).toEqual({
      error: { kind: "invalid", message: "invalid app: must start with a letter", field: "app" },
    });
    expect(io.err).toEqual(["gt x: invalid app: must start with a letter"]);
  });

  it.each([
    [new NotFoundError("gear g not found on this node"), 4, "not_found"],
    [new ConflictError("uid 1000 is taken"), 5, "conflict"],
    [new OperationFailedError("deploy failed", "deploy_failed"), 1, "deploy_failed"],
    [new UnavailableError("nft missing"), 1, "unavailable"],
    [new Error("something unforeseen"), 1, "error"],
  ])("%p exits %p with kind %p", (e, code, kind) => {
    const io = capture();
    expect(failFor(e, { program: "gt", io })).toBe(code);
    expect(JSON.parse(io.out.join("\n")).error).toEqual({ kind, message: e.message });
  });

  it("prints only the first line of a long message on stderr (the JSON keeps all of it)", () => {
    const io = capture();
    failFor(new OperationFailedError("hook failed:\nline 2\nline 3"), { program: "gt", io });
    expect(io.err).toEqual(["gt: hook failed:"]);
    expect(JSON.parse(io.out[0]).error.message).toBe("hook failed:\nline 2\nline 3");
  });

  it("prints a usage error and the usage on stderr only, exit 2", () => {
    const io = capture();
    expect(failFor(new UsageError("unknown command 'x'"), { program: "gt", usage: "Usage: gt y", io })).toBe(
      2,
    );
    expect(io.out).toEqual([]);
    expect(io.err).toEqual(["gt: unknown command 'x'\n\nUsage: gt y"]);
  });

  it("with json: false, prints text on stderr only", () => {
    const io = capture();
    expect(failFor(new Error("disk on fire"), { program: "gt lint", json: false, io })).toBe(1);
    expect(io.out).toEqual([]);
    expect(io.err).toEqual(["gt lint: disk on fire"]);
  });
});
