// command:local:Command and command:local:run, through the provider methods, running real processes.

import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { specialArchiveSig, specialAssetSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { withOperationContext } from "../../../plugins/command/context";
import { CommandProvider } from "../../../plugins/command/provider";
import { LOCAL, captureSink, secret, unknownValue, urn } from "../../unit/command-provider/helpers";

jest.setTimeout(30000);

describe("command:local:Command (real processes)", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-local-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const u = urn(LOCAL, "cmd");

  it("creates, updates with `update`, and deletes, passing previous output in the environment", async () => {
    const sink = captureSink();
    const p = new CommandProvider({ sink });
    const log = path.join(dir, "log");
    const inputs = {
      create: `echo created >> ${log}; echo out-one; echo err-one >&2`,
      update: `echo "update saw [$PULUMI_COMMAND_STDOUT] [$PULUMI_COMMAND_STDERR]" >> ${log}; echo out-two`,
      delete: `echo "delete saw [$PULUMI_COMMAND_STDOUT]" >> ${log}`,
      dir,
    };
    const created = await p.create(u, inputs);
    expect(created.id).toMatch(/^cmd-[0-9a-f]{8}$/);
    expect(created.outs).toMatchObject({ ...inputs, stdout: "out-one", stderr: "err-one" });
    expect(sink.messages()).toEqual(expect.arrayContaining(["out-one", "err-one"]));

    const news = { ...inputs, environment: { X: "1" } };
    const diff = await p.diff(created.id, u, created.outs, news);
    expect(diff).toMatchObject({ changes: true });
    expect(diff.replaces ?? []).toEqual([]);
    const updated = await p.update(created.id, u, created.outs, news);
    expect(updated.outs).toMatchObject({ stdout: "out-two", stderr: "", environment: { X: "1" } });

    await p.delete(created.id, u, updated.outs);
    expect(fs.readFileSync(log, "utf8")).toBe(
      "created\nupdate saw [out-one] [err-one]\ndelete saw [out-two]\n",
    );
  });

  it("re-runs `create` on update when there is no `update` command", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const counter = path.join(dir, "count");
    const inputs = { create: `echo x >> ${counter}; wc -l < ${counter}` };
    const created = await p.create(u, inputs);
    expect(created.outs.stdout.trim()).toBe("1");
    const updated = await p.update(created.id, u, created.outs, { ...inputs, stdin: "changed" });
    expect(updated.outs.stdout.trim()).toBe("2");
  });

  it("passes stdin, environment and dir; runs through the given interpreter without a shell", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const created = await p.create(u, {
      create: "import os,sys; print(sys.stdin.read().upper(), os.environ['GREETING'], os.getcwd())",
      interpreter: ["python3", "-c"],
      stdin: "hello",
      environment: { GREETING: "it's $HOME; `x`" },
      dir,
    });
    expect(created.outs.stdout).toBe(`HELLO it's $HOME; \`x\` ${fs.realpathSync(dir)}`);
  });

  it("does not add previous output when addPreviousOutputInEnv is false", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const inputs = { create: 'echo "[${PULUMI_COMMAND_STDOUT-unset}]"', addPreviousOutputInEnv: false };
    const created = await p.create(u, inputs);
    const updated = await p.update(created.id, u, created.outs, { ...inputs, environment: { A: "b" } });
    expect(updated.outs.stdout).toBe("[unset]");
  });

  it("fails as upstream says it, with the command and its output, and leaves no state", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    await expect(p.create(u, { create: "echo partial; echo 'disk full' >&2; exit 3" })).rejects.toThrow(
      "exit status 3: running \"echo partial; echo 'disk full' >&2; exit 3\":\npartial\ndisk full\n",
    );
  });

  it('logs nothing and puts no output in the error when logging is "none"', async () => {
    const sink = captureSink();
    const p = new CommandProvider({ sink });
    const created = await p.create(u, { create: "echo s3cr3t-out; echo s3cr3t-err >&2", logging: "none" });
    expect(created.outs).toMatchObject({ stdout: "s3cr3t-out", stderr: "s3cr3t-err" });
    let message = "";
    await p
      .create(u, { create: 'echo "$WORD" >&2; exit 1', environment: { WORD: "s3cr3t" }, logging: "none" })
      .catch((e: Error) => (message = e.message));
    expect(message).toMatch(/^exit status 1: running /);
    expect(message).not.toMatch(/s3cr3t/);
    expect(JSON.stringify(sink.entries)).not.toMatch(/s3cr3t/);
  });

  it('logs only stdout with logging "stdout"', async () => {
    const sink = captureSink();
    const p = new CommandProvider({ sink });
    await p.create(u, { create: "echo visible; echo hidden >&2", logging: "stdout" });
    expect(sink.messages()).toEqual(["visible"]);
  });

  it("keeps secret inputs wrapped in the outputs and runs with their plain value", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const env = secret({ TOKEN: "tok-123" });
    const created = await p.create(u, {
      create: 'test "$TOKEN" = tok-123 && echo ok',
      environment: env,
      logging: "none",
    });
    expect(created.outs.environment).toEqual(env);
    expect(created.outs.stdout).toEqual(secret("ok"));
  });

  it("makes the output of a command given a secret secret, and logs or quotes none of it", async () => {
    const sink = captureSink();
    const p = new CommandProvider({ sink });
    const inputs = {
      create: 'echo "token=$TOKEN"; echo "err=$TOKEN" >&2',
      environment: { TOKEN: secret("tok-9") },
    };
    const created = await p.create(u, inputs);
    expect(created.outs).toMatchObject({ stdout: secret("token=tok-9"), stderr: secret("err=tok-9") });
    expect(created.outs.create).toBe(inputs.create);

    // Nothing runs on an update without a command: the recorded output is kept, and stays secret.
    const kept = await p.update(created.id, u, { ...created.outs, stdout: "token=tok-9" }, inputs);
    expect(kept.outs.stdout).toEqual(secret("token=tok-9"));

    let message = "";
    await p
      .create(u, { create: 'echo "$TOKEN" >&2; exit 1', stdin: secret("tok-9") })
      .catch((e: Error) => (message = e.message));
    expect(message).toMatch(/the command was given a secret/);
    expect(message + JSON.stringify(sink.entries)).not.toMatch(/tok-9/);
  });

  it("refresh (read) turns output recorded in plain text secret when a secret reaches the command", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const state = { create: "echo $T", environment: { T: secret("t") }, stdout: "t", stderr: "" };
    const read = await p.read("id", u, state);
    expect(read.props).toEqual({ ...state, stdout: secret("t"), stderr: secret("") });
    const plain = { create: "echo hi", stdout: "hi", stderr: "" };
    expect((await p.read("id", u, plain)).props).toEqual(plain);
  });

  it("fails clearly when dir does not exist", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    await expect(p.create(u, { create: "true", dir: path.join(dir, "nope") })).rejects.toThrow(
      /dir ".*nope" does not exist/,
    );
  });

  it("succeeds deleting when there is no delete command, and runs nothing without create", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const created = await p.create(u, { delete: "" });
    expect(created.outs).toMatchObject({ stdout: "", stderr: "" });
    await expect(p.delete(created.id, u, created.outs)).resolves.toBeUndefined();
  });

  it("reports a failing delete command", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    await expect(
      p.delete("id", u, { delete: "echo cannot >&2; exit 7", stdout: "", stderr: "" }),
    ).rejects.toThrow('exit status 7: running "echo cannot >&2; exit 7":\ncannot\n');
  });

  it("never runs a command whose inputs are not all known (preview)", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const marker = path.join(dir, "ran");
    const created = await p.create(u, { create: `touch ${marker}`, environment: { A: unknownValue } });
    expect(created.outs.stdout).toBe(unknownValue);
    const updated = await p.update(
      "id",
      u,
      { create: "true" },
      { create: `touch ${marker}`, stdin: unknownValue },
    );
    expect(updated.outs.stdout).toBe(unknownValue);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("does not hang when the command leaves a background process holding its output", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const started = Date.now();
    const created = await p.create(u, { create: "sleep 30 & echo $!" });
    const pid = Number(created.outs.stdout);
    try {
      expect(Date.now() - started).toBeLessThan(10000);
      expect(pid).toBeGreaterThan(0);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  it("stops a command that outlives the engine's timeout (customTimeouts)", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const started = Date.now();
    await expect(
      withOperationContext({ timeoutSeconds: 1 }, () => p.create(u, { create: "sleep 30" })),
    ).rejects.toThrow("create command timed out after 1s (customTimeouts.create)");
    expect(Date.now() - started).toBeLessThan(10000);
  });

  it("cancel() stops a running command", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const running = p.create(u, { create: "sleep 30" });
    await new Promise((r) => setTimeout(r, 300));
    await p.cancel();
    await expect(running).rejects.toThrow(/cancelled/);
    // The provider keeps working after a cancel.
    await expect(p.create(u, { create: "echo again" })).resolves.toMatchObject({ outs: { stdout: "again" } });
  });
});

describe("command:local:run (invoke)", () => {
  it("runs the command and returns stdout/stderr", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const res = await p.invoke("command:local:run", { command: "printf 'a\\nb\\n'; echo e >&2" });
    expect(res.outputs).toMatchObject({
      command: "printf 'a\\nb\\n'; echo e >&2",
      stdout: "a\nb",
      stderr: "e",
    });
  });

  it("returns check failures instead of running invalid arguments", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    const res = await p.invoke("command:local:run", { command: "true", assetPaths: ["[x"] });
    expect(res.failures?.[0]?.reason).toMatch(/unclosed \[/);
  });

  it("returns the files assetPaths and archivePaths select, as path assets with their hash", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-run-assets-"));
    try {
      const p = new CommandProvider({ sink: captureSink() });
      fs.mkdirSync(path.join(dir, "sub"));
      fs.writeFileSync(path.join(dir, "sub", "real.txt"), "real");
      fs.symlinkSync(path.join(dir, "sub"), path.join(dir, "linked-dir"));
      fs.symlinkSync(path.join(dir, "sub", "real.txt"), path.join(dir, "linked.txt"));
      const res = await p.invoke("command:local:run", {
        command: "echo made > made.txt",
        dir,
        assetPaths: ["**.txt", "!sub/**"],
        archivePaths: [],
      });
      const asset = (file: string, text: string) => ({
        [specialSigKey]: specialAssetSig,
        path: path.join(dir, file),
        hash: createHash("sha256").update(text).digest("hex"),
      });
      // Links to files count, links to directories are not entered (as upstream's walk).
      expect(res.outputs?.assets).toEqual({
        "linked.txt": asset("linked.txt", "real"),
        "made.txt": asset("made.txt", "made\n"),
      });
      expect(res.outputs?.archive).toEqual({ [specialSigKey]: specialArchiveSig, assets: {} });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects unknown functions", async () => {
    const p = new CommandProvider({ sink: captureSink() });
    await expect(p.invoke("command:remote:runOutput", {})).rejects.toThrow(/not implemented/);
  });
});
