import { CommandProvider, parseUrn } from "../../../plugins/command/provider";
import { packageSchema, PROVIDER_VERSION } from "../../../plugins/command/schema";
import { captureSink, secret, urn } from "./helpers";

const p = () => new CommandProvider({ sink: captureSink() });

describe("parseUrn", () => {
  it("takes the last type of a parented URN and keeps names with ::", () => {
    expect(
      parseUrn("urn:pulumi:dev::geartrain::geartrain:host:Host$command:remote:Command::node-1-setup"),
    ).toEqual({
      type: "command:remote:Command",
      name: "node-1-setup",
    });
    expect(parseUrn("urn:pulumi:s::p::command:local:Command::a::b").name).toBe("a::b");
    expect(() => parseUrn("nonsense")).toThrow(/malformed URN/);
  });
});

describe("CommandProvider (no commands run)", () => {
  it("reports version 1.2.1 and a schema naming the three resources", async () => {
    expect(p().version).toBe("1.2.1");
    expect(PROVIDER_VERSION).toBe("1.2.1");
    const schema = JSON.parse(await p().getSchema());
    expect(schema).toEqual(packageSchema());
    expect(schema.resources["command:remote:Command"].inputProperties.connection.$ref).toBe(
      "#/types/command:remote:Connection",
    );
    expect(schema.resources["command:remote:Command"].inputProperties.connection.secret).toBe(true);
    expect(schema.resources["command:local:Command"].required).toEqual(["stdout", "stderr"]);
    expect(schema.functions["command:local:run"].inputs.required).toEqual(["command"]);
  });

  it("rejects resource types it does not implement, naming those it does", async () => {
    await expect(p().check(urn("command:remote:CopyFile", "f"), {}, {})).rejects.toThrow(
      "resource type command:remote:CopyFile is not implemented by Geartrain's command provider " +
        "(supported: command:local:Command, command:remote:Command, command:remote:CopyToRemote)",
    );
  });

  it("check returns the inputs untouched (secrets stay wrapped) with failures", async () => {
    const news = { create: "x", stdin: secret("pw"), logging: "loud" };
    const res = await p().check(urn("command:local:Command", "c"), {}, news);
    expect(res.inputs).toBe(news);
    expect(res.failures).toEqual([
      { property: "logging", reason: "logging must be one of stdout, stderr, stdoutAndStderr, none" },
    ]);
  });

  it("diff maps to the engine's answer", async () => {
    const u = urn("command:local:Command", "c");
    expect(await p().diff("id", u, { create: "a", stdout: "" }, { create: "a", triggers: [1] })).toEqual({
      changes: true,
      replaces: ["triggers"],
      deleteBeforeReplace: false,
    });
    expect(await p().diff("id", u, { create: "a", stdout: "" }, { create: "a" })).toMatchObject({
      changes: false,
      replaces: [],
    });
  });

  it("create refuses invalid inputs even without a prior check", async () => {
    await expect(
      p().create(urn("command:local:Command", "c"), { create: "true", archivePaths: ["{x"] }),
    ).rejects.toThrow(
      /invalid inputs for command:local:Command c:\n {2}- archivePaths\[0\]: glob "\{x" has an unclosed \{/,
    );
  });

  it("update without create/update keeps the previous outputs (secret ones stay secret)", async () => {
    const olds = { stdout: secret("old-out"), stderr: "old-err", delete: "x" };
    const res = await p().update("id", urn("command:local:Command", "c"), olds, { delete: "y" });
    expect(res.outs).toEqual({ delete: "y", stdout: secret("old-out"), stderr: "old-err" });
  });

  it("read returns the recorded state (commands have nothing to read back)", async () => {
    const props = { create: "x", stdout: "o", stderr: "" };
    expect(await p().read("id", urn("command:local:Command", "c"), props)).toEqual({ id: "id", props });
  });

  it("delete without a delete command succeeds without touching the host", async () => {
    await expect(
      p().delete("id", urn("command:remote:Command", "r"), {
        connection: { host: "192.0.2.1", port: 1 },
        create: "x",
      }),
    ).resolves.toBeUndefined();
  });
});
