import {
  ENV_NAME_PATTERN,
  exportPreamble,
  localEnvNameProblem,
  previousOutputEnv,
  remoteCommandString,
  remoteEnvNameProblem,
  shellQuote,
} from "../../../plugins/command/env";

describe("shellQuote", () => {
  it.each([
    ["plain", "'plain'"],
    ["", "''"],
    ["it's", "'it'\\''s'"],
    ['$HOME `id` $(id) \\ "q"', "'$HOME `id` $(id) \\ \"q\"'"],
    ["line1\nline2", "'line1\nline2'"],
    ["''", "''\\'''\\'''"],
  ])("quotes %j as %s", (input, expected) => {
    expect(shellQuote(input)).toBe(expected);
  });
});

describe("environment variable names", () => {
  it.each(["A", "_x", "PULUMI_COMMAND_STDOUT", "a1_B2"])("accepts %s for remote hosts", (name) => {
    expect(remoteEnvNameProblem(name)).toBeUndefined();
  });

  it.each(["", "1A", "A-B", "A B", "A;id", "A=B", "$(id)", "Ä"])(
    "rejects %j for remote hosts with the pattern",
    (name) => {
      expect(remoteEnvNameProblem(name)).toBe(
        `environment variable name ${JSON.stringify(name)} is invalid: it must match ${ENV_NAME_PATTERN.source}`,
      );
    },
  );

  it("is looser for local processes, which get the environment without a shell", () => {
    expect(localEnvNameProblem("A-B.c")).toBeUndefined();
    expect(localEnvNameProblem("A=B")).toMatch(/must be non-empty and contain no "=" or NUL/);
    expect(localEnvNameProblem("")).toMatch(/invalid/);
  });
});

describe("exportPreamble / remoteCommandString", () => {
  it("exports sorted, single-quoted assignments before the untouched command", () => {
    expect(remoteCommandString('set -eu\necho "$B"', { B: "it's", A: "1" })).toBe(
      "export A='1'\nexport B='it'\\''s'\nset -eu\necho \"$B\"",
    );
  });

  it("leaves the command alone without environment", () => {
    expect(remoteCommandString("uptime", {})).toBe("uptime");
    expect(exportPreamble({})).toBe("");
  });

  it("throws on a name that could inject shell code, without echoing the value", () => {
    expect(() => exportPreamble({ "X;rm -rf /": "secret-value" })).toThrow(/"X;rm -rf \/" is invalid/);
    let message: string | undefined;
    try {
      exportPreamble({ "X;rm": "secret-value" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/"X;rm" is invalid/); // it threw, and said why
    expect(message).not.toMatch(/secret-value/);
  });

  it("throws on a NUL in a value, naming only the variable", () => {
    expect(() => exportPreamble({ TOKEN: "a\0b" })).toThrow(
      "environment variable TOKEN contains a NUL character",
    );
  });
});

describe("previousOutputEnv", () => {
  it("sets PULUMI_COMMAND_STDOUT/STDERR when enabled", () => {
    expect(previousOutputEnv(true, { stdout: "o", stderr: "" })).toEqual({
      PULUMI_COMMAND_STDOUT: "o",
      PULUMI_COMMAND_STDERR: "",
    });
  });

  it("sets nothing when disabled or without a previous run", () => {
    expect(previousOutputEnv(false, { stdout: "o", stderr: "e" })).toEqual({});
    expect(previousOutputEnv(true, undefined)).toEqual({});
  });
});
