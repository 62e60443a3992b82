import { commandFailed, tail } from "../../../plugins/command/errors";
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
    expect(sink.entries).toEqual([
      { severity: "info", urn: "urn:x", message: "one" },
      { severity: "info", urn: "urn:x", message: "two" },
      { severity: "info", urn: "urn:x", message: "three" },
    ]);
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

  it("includes stderr by default", () => {
    expect(
      commandFailed("create command", exit, "out", "bad thing\n", shown("stdoutAndStderr")).message,
    ).toBe("create command failed with exit code 2\nstderr:\nbad thing");
  });

  it("falls back to stdout when stderr is empty", () => {
    expect(commandFailed("update command", exit, "only out\n", "", shown("stdoutAndStderr")).message).toBe(
      "update command failed with exit code 2\nstdout:\nonly out",
    );
  });

  it('shows no output with logging "none"', () => {
    expect(commandFailed("delete command", exit, "s3cret", "s3cret", shown("none")).message).toBe(
      'delete command failed with exit code 2\n(its output is not shown because logging is "none")',
    );
  });

  it("shows no output of a command that was given a secret, whatever logging says", () => {
    expect(
      commandFailed("create command", exit, "s3cret", "s3cret", outputVisibility("stdoutAndStderr", true))
        .message,
    ).toBe(
      "create command failed with exit code 2\n(its output is not shown because the command was given a secret)",
    );
  });

  it("shows only the streams logging allows", () => {
    expect(commandFailed("create command", exit, "visible", "hidden", shown("stdout")).message).toBe(
      "create command failed with exit code 2\nstdout:\nvisible",
    );
    expect(commandFailed("create command", exit, "hidden", "", shown("stderr")).message).toBe(
      "create command failed with exit code 2",
    );
  });

  it("names signals and lost connections", () => {
    expect(commandFailed("x", { code: null, signal: "SIGKILL" }, "", "", shown("none")).message).toMatch(
      /failed with signal SIGKILL/,
    );
    expect(commandFailed("x", { code: null, signal: null }, "", "", shown("none")).message).toMatch(
      /no exit status \(connection lost\?\)/,
    );
  });

  it("keeps only the tail of long output", () => {
    const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    const t = tail(long);
    expect(t.startsWith("…\n")).toBe(true);
    expect(t.split("\n")).toHaveLength(21);
    expect(t.endsWith("line 99")).toBe(true);
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
