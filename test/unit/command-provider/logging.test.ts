import { commandFailed, describeExit, tail } from "../../../plugins/command/errors";
import {
  StreamCollector,
  engineAddressFromArgs,
  outputVisibility,
  trimTrailingNewline,
} from "../../../plugins/command/logging";
import type { Logging } from "../../../plugins/command/schema";
import { captureSink } from "./helpers";

describe("StreamCollector", () => {
  it("forwards complete lines as they arrive and the rest at the end", () => {
    const sink = captureSink();
    const c = new StreamCollector(sink, "urn:x", true);
    c.write("one\ntw");
    expect(sink.messages()).toEqual(["one"]);
    c.write(Buffer.from("o\r\nthree"));
    expect(c.finish()).toBe("one\ntwo\r\nthree");
    // Ephemeral status lines, as upstream logs command output.
    expect(sink.entries).toEqual([
      { severity: "info", urn: "urn:x", message: "one", ephemeral: true },
      { severity: "info", urn: "urn:x", message: "two", ephemeral: true },
      { severity: "info", urn: "urn:x", message: "three", ephemeral: true },
    ]);
  });

  it("keeps the enabled streams interleaved in arrival order, for error messages", () => {
    const sink = captureSink();
    const interleaved: Buffer[] = [];
    const out = new StreamCollector(sink, "urn:x", true, interleaved);
    const err = new StreamCollector(sink, "urn:x", true, interleaved);
    const hidden = new StreamCollector(sink, "urn:x", false, interleaved);
    out.write("1\n");
    err.write("2\n");
    hidden.write("never\n");
    out.write("3\n");
    expect(Buffer.concat(interleaved).toString()).toBe("1\n2\n3\n");
  });

  it("collects but logs nothing when disabled", () => {
    const sink = captureSink();
    const c = new StreamCollector(sink, "urn:x", false);
    c.write("secret\n");
    expect(c.finish()).toBe("secret\n");
    expect(sink.entries).toEqual([]);
  });
});

describe("trimTrailingNewline", () => {
  it.each([
    ["hi\n", "hi"],
    ["hi\r\n", "hi"],
    ["hi\n\n", "hi\n"],
    ["hi", "hi"],
    ["", ""],
  ])("%j -> %j", (input, expected) => expect(trimTrailingNewline(input)).toBe(expected));
});

describe("commandFailed", () => {
  const exit = { code: 2, signal: null };
  const shown = (logging: Logging) => outputVisibility(logging, false);
  const failed = (output: string, logging: Logging, runner: "local" | "remote" = "local") =>
    commandFailed({ exit, runner, command: 'make "all"', output, shown: shown(logging) }).message;

  it("says it as upstream does: exit status, the quoted command, then the output as it arrived", () => {
    expect(failed("out\nbad thing\n", "stdoutAndStderr")).toBe(
      'exit status 2: running "make \\"all\\"":\nout\nbad thing\n',
    );
    expect(failed("x", "stdout", "remote")).toBe(
      'Process exited with status 2: running "make \\"all\\"":\nx',
    );
  });

  it('shows no output with logging "none", or when the command was given a secret', () => {
    expect(failed("s3cret", "none")).toBe(
      'exit status 2: running "make \\"all\\"":\n(the output is not shown because logging is "none")',
    );
    const secretRun = { exit, runner: "local" as const, command: "[secret]", output: "s3cret" };
    expect(commandFailed({ ...secretRun, shown: outputVisibility("stdoutAndStderr", true) }).message).toBe(
      'exit status 2: running "[secret]":\n(the output is not shown because the command was given a secret)',
    );
  });

  it.each([
    [{ code: null, signal: "SIGKILL" }, "local", "signal: killed"],
    [{ code: null, signal: "SIGTERM" }, "local", "signal: terminated"],
    [{ code: null, signal: null }, "local", "no exit status"],
    [{ code: null, signal: "SIGKILL" }, "remote", "Process exited with status 137 from signal KILL"],
    [
      { code: null, signal: null },
      "remote",
      "wait: remote command exited without exit status or exit signal",
    ],
  ] as const)("describes %j (%s) as %j", (e, runner, text) => {
    expect(describeExit(e, runner)).toBe(text);
  });

  it("keeps only the end of very long output", () => {
    const long = "x".repeat(100 * 1024) + "the end";
    const t = tail(long);
    expect(t.startsWith("…")).toBe(true);
    expect(t.length).toBe(64 * 1024 + 1);
    expect(t.endsWith("the end")).toBe(true);
  });
});

describe("engineAddressFromArgs", () => {
  it("skips the flags the engine adds", () => {
    expect(engineAddressFromArgs(["--logtostderr", "-v=9", "--tracing", "http://t", "127.0.0.1:4000"])).toBe(
      "127.0.0.1:4000",
    );
    expect(engineAddressFromArgs([])).toBeUndefined();
  });
});
