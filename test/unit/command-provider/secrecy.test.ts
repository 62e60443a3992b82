import { commandSeesSecret, markProduced } from "../../../plugins/command/secrecy";
import { secret } from "./helpers";

describe("commandSeesSecret", () => {
  it.each([
    ["environment", { create: "echo $T", environment: { T: secret("pw") } }],
    ["a whole environment", { create: "echo $T", environment: secret({ T: "pw" }) }],
    ["stdin", { create: "cat", stdin: secret("pw") }],
    ["create", { create: secret("echo pw") }],
    ["delete", { create: "true", delete: secret("echo pw") }],
    ["triggers", { create: "true", triggers: [secret("h")] }],
    ["interpreter", { create: "x", interpreter: ["/bin/sh", secret("-c")] }],
  ])("is true for a secret in %s", (_what, inputs) => {
    expect(commandSeesSecret(inputs)).toBe(true);
  });

  it("ignores the connection, which the SDK always marks secret and which never reaches the command", () => {
    expect(commandSeesSecret({ create: "uptime", connection: secret({ host: "h", privateKey: "k" }) })).toBe(
      false,
    );
  });

  it("ignores produced outputs among the inputs (state passed to read)", () => {
    expect(commandSeesSecret({ create: "x", stdout: secret("o") })).toBe(false);
  });

  it("counts a secret previous output only when it is passed on in the environment", () => {
    const previous = { stdout: secret("o"), stderr: "" };
    expect(commandSeesSecret({ create: "x" }, previous)).toBe(true);
    expect(commandSeesSecret({ create: "x", addPreviousOutputInEnv: false }, previous)).toBe(false);
    expect(commandSeesSecret({ create: "x" }, { stdout: "o", stderr: "e" })).toBe(false);
  });
});

describe("markProduced", () => {
  it("wraps stdout, stderr, assets and archive, leaving echoed inputs and secrets as they are", () => {
    const outs = { create: "x", stdout: "o", stderr: secret("e"), assets: { a: 1 } };
    expect(markProduced(outs, true)).toEqual({
      create: "x",
      stdout: secret("o"),
      stderr: secret("e"),
      assets: secret({ a: 1 }),
    });
    expect(markProduced(outs, false)).toBe(outs);
  });
});
