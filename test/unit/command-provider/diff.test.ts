import { diffResource } from "../../../plugins/command/diff";
import { fileArchive, secret, stringAsset, unknownValue } from "./helpers";

const LOCAL = "command:local:Command";
const REMOTE = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";

const outs = (inputs: Record<string, unknown>) => ({ ...inputs, stdout: "out", stderr: "err" });

describe("diff", () => {
  it("reports no change for identical inputs (stdout/stderr in the old state are not inputs)", () => {
    const inputs = { create: "echo hi", environment: { B: "2", A: "1" }, triggers: ["x"] };
    expect(diffResource(LOCAL, outs(inputs), { ...inputs, environment: { A: "1", B: "2" } })).toEqual({
      changes: false,
      replaces: [],
      changed: [],
      deleteBeforeReplace: false,
    });
  });

  it("replaces when triggers change", () => {
    const d = diffResource(LOCAL, outs({ create: "a", triggers: ["v1"] }), { create: "a", triggers: ["v2"] });
    expect(d).toMatchObject({ changes: true, replaces: ["triggers"], changed: ["triggers"] });
    expect(diffResource(LOCAL, outs({ create: "a" }), { create: "a", triggers: ["v1"] }).replaces).toEqual([
      "triggers",
    ]);
  });

  it.each([
    ["create", { create: "b" }],
    ["update", { update: "u" }],
    ["delete", { delete: "d" }],
    ["environment", { environment: { A: "2" } }],
    ["stdin", { stdin: "x" }],
    ["dir", { dir: "/tmp" }],
    ["interpreter", { interpreter: ["/bin/bash", "-c"] }],
    ["logging", { logging: "none" }],
  ])("updates in place when %s changes", (key, change) => {
    const d = diffResource(LOCAL, outs({ create: "a" }), { create: "a", ...change });
    expect(d).toMatchObject({ changes: true, replaces: [], changed: [key] });
  });

  it("treats absent, empty and default values alike", () => {
    const old = outs({ create: "a", environment: {}, triggers: [], stdin: "" });
    expect(diffResource(LOCAL, old, { create: "a" }).changes).toBe(false);
    expect(
      diffResource(LOCAL, outs({ create: "a" }), {
        create: "a",
        addPreviousOutputInEnv: true,
        logging: "stdoutAndStderr",
      }).changes,
    ).toBe(false);
    expect(
      diffResource(LOCAL, outs({ create: "a" }), { create: "a", interpreter: ["/bin/sh", "-c"] }).changes,
    ).toBe(false);
  });

  it("ignores secret-ness, compares plain values", () => {
    expect(
      diffResource(LOCAL, outs({ create: "a", stdin: secret("pw") }), { create: "a", stdin: "pw" }).changes,
    ).toBe(false);
    expect(
      diffResource(LOCAL, outs({ create: "a", stdin: secret("pw") }), { create: "a", stdin: secret("pw2") })
        .changed,
    ).toEqual(["stdin"]);
  });

  it("always reports unknown values (preview) as changes", () => {
    expect(diffResource(LOCAL, outs({ create: "a" }), { create: unknownValue }).changed).toEqual(["create"]);
    expect(
      diffResource(LOCAL, outs({ create: "a", triggers: ["x"] }), { create: "a", triggers: [unknownValue] })
        .replaces,
    ).toEqual(["triggers"]);
  });

  it("compares the connection after the SDK defaults, so port 22/user root equal their absence", () => {
    const old = outs({
      connection: secret({ host: "h", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 }),
      create: "a",
    });
    expect(diffResource(REMOTE, old, { connection: secret({ host: "h" }), create: "a" }).changes).toBe(false);
    expect(diffResource(REMOTE, old, { connection: { host: "h", port: 2222 }, create: "a" })).toMatchObject({
      changes: true,
      replaces: [],
      changed: ["connection"],
    });
    expect(
      diffResource(REMOTE, outs({ connection: { host: "h", proxy: { host: "b" } } }), {
        connection: { host: "h", proxy: { host: "b", port: 22, user: "root" } },
      }).changes,
    ).toBe(false);
  });

  it("counts connection keys the schema does not know (so nothing silently stops counting)", () => {
    const old = outs({ connection: { host: "h" }, create: "a" });
    expect(
      diffResource(REMOTE, old, { connection: { host: "h", futureOption: "x" }, create: "a" }),
    ).toMatchObject({ changes: true, replaces: [], changed: ["connection"] });
    expect(
      diffResource(REMOTE, outs({ connection: { host: "h", futureOption: "x" }, create: "a" }), {
        connection: { host: "h", futureOption: "y" },
        create: "a",
      }).changed,
    ).toEqual(["connection"]);
    expect(
      diffResource(REMOTE, outs({ connection: { host: "h", proxy: { host: "b" } }, create: "a" }), {
        connection: { host: "h", proxy: { host: "b", futureOption: "x" } },
        create: "a",
      }).changed,
    ).toEqual(["connection"]);
    // an unknown key that is empty still equals its absence
    expect(
      diffResource(REMOTE, old, { connection: { host: "h", futureOption: "" }, create: "a" }).changes,
    ).toBe(false);
  });

  it("compares assets and archives by hash (the engine elides their contents in Diff)", () => {
    const old = {
      connection: { host: "h" },
      remotePath: "/x",
      source: { ...stringAsset("one"), text: undefined },
    };
    expect(
      diffResource(COPY, old, { connection: { host: "h" }, remotePath: "/x", source: stringAsset("one") })
        .changes,
    ).toBe(false);
    expect(
      diffResource(COPY, old, { connection: { host: "h" }, remotePath: "/x", source: stringAsset("two") }),
    ).toMatchObject({
      changes: true,
      replaces: [],
      changed: ["source"],
    });
    expect(
      diffResource(
        COPY,
        { connection: { host: "h" }, remotePath: "/x", source: fileArchive("d", "h1") },
        {
          connection: { host: "h" },
          remotePath: "/x",
          source: fileArchive("d", "h1"),
          triggers: [stringAsset("t")],
        },
      ).replaces,
    ).toEqual(["triggers"]);
  });
});
