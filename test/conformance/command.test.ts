// Conformance: the `command` provider through the engine, as users write programs: commands given a
// secret (issue 9 point 1), output logging and failure messages (point 4), assetPaths/archivePaths
// (point 6).
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { specialArchiveSig, specialAssetSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { PulumiSandbox } from "../helpers/pulumi-cli";
import { Sshd, startSshd } from "../integration/command-provider/sshd";
import { destroyAll, outputs, programStack, resourceNamed, runLogged } from "./stacks";

jest.setTimeout(5 * 60 * 1000);

/** The final "Diagnostics:" section of the CLI's display ("" when there is none). */
function diagnosticsBlock(display: string): string {
  const start = display.indexOf("\nDiagnostics:\n");
  if (start < 0) return "";
  const end = display.slice(start + 1).search(/\n(Outputs|Resources):\n/);
  return end < 0 ? display.slice(start) : display.slice(start, start + 1 + end);
}

const TOKEN = "gt-conformance-token-93ab17";

describe("commands given a secret", () => {
  let sshd: Sshd;
  let stack: PulumiSandbox;

  beforeAll(async () => {
    sshd = await startSshd();
    stack = programStack("command-secrets", () => ({
      plain: { sshPort: String(sshd.port) },
      secrets: { token: TOKEN, sshKey: sshd.clientKey },
    }));
  });

  afterAll(async () => {
    destroyAll(stack);
    await sshd?.stop();
  });

  it("store their output as secrets, log none of it, and leave other output plain", () => {
    const up = stack.ok(["up", "--yes", "--skip-preview"]);
    expect(outputs(stack)).toEqual({
      environment: "[secret]",
      environmentStderr: "[secret]",
      stdin: "[secret]",
      script: "[secret]",
      remote: "[secret]",
      plain: "nothing secret here",
      remotePlain: "remote plain",
    });
    expect(outputs(stack, true)).toMatchObject({
      environment: `environment gave ${TOKEN}`,
      environmentStderr: `stderr saw ${TOKEN}`,
      stdin: TOKEN,
      script: `script has ${TOKEN}`,
      remote: `remote got ${TOKEN}`,
    });
    const state = stack.ok(["stack", "export"]).stdout;
    for (const [what, text] of Object.entries({ state, "up output": up.stdout + up.stderr })) {
      expect({ what, leaks: text.includes(TOKEN) }).toEqual({ what, leaks: false });
    }
  });
});

describe("command output and failures", () => {
  let chatty: PulumiSandbox;
  let broken: PulumiSandbox | undefined;

  beforeAll(() => {
    chatty = programStack("command-output");
  });

  afterAll(() => destroyAll(broken, chatty));

  it("is logged as ephemeral status, so the final diagnostics do not repeat it", () => {
    const { result, events } = runLogged(chatty, ["up", "--yes", "--skip-preview"]);
    expect(result.code).toBe(0);
    const lines = events.flatMap((e) =>
      e.diagnosticEvent?.message.includes("-line-") && e.diagnosticEvent.severity !== "debug"
        ? [e.diagnosticEvent]
        : [],
    );
    expect(lines.map((d) => [d.message.trim(), d.severity, d.ephemeral])).toEqual([
      ["out-line-1", "info", true],
      ["out-line-2", "info", true],
      ["err-line-1", "info", true],
    ]);
    expect(diagnosticsBlock(result.stdout)).not.toMatch(/-line-/);
    expect(outputs(chatty)).toEqual({ stdout: "out-line-1\nout-line-2", stderr: "err-line-1" });
  });

  it('fails with upstream\'s "exit status N: running …" and the output, shown once', () => {
    broken = programStack("command-failure", undefined, chatty);
    const { result, events } = runLogged(broken, ["up", "--yes", "--skip-preview"]);
    expect(result.code).not.toBe(0);
    const errors = events.flatMap((e) =>
      e.diagnosticEvent?.severity === "error" && e.diagnosticEvent.urn?.endsWith("::broken")
        ? [e.diagnosticEvent]
        : [],
    );
    expect(errors).toHaveLength(1);
    expect(errors[0].ephemeral).toBeFalsy();
    expect(errors[0].message).toMatch(
      /^exit status 3: running "echo before-failure; echo \\"\$DETAIL\\" >&2; exit 3":\nbefore-failure\nfailure-detail\n/,
    );
    // Once, in the error: not again as a diagnostic line of its own.
    expect(diagnosticsBlock(result.stdout).split("failure-detail")).toHaveLength(2);
  });
});

describe("assetPaths and archivePaths", () => {
  let stack: PulumiSandbox;
  let workdir: string;

  beforeAll(() => {
    stack = programStack("command-assets", (dir) => {
      workdir = path.join(dir, "work");
      fs.mkdirSync(workdir);
      return { plain: { workdir } };
    });
  });

  afterAll(() => destroyAll(stack));

  it("collect the files the globs select, as assets and as one archive", () => {
    stack.ok(["up", "--yes", "--skip-preview"]);
    const selected = ["assets/logos/logo.svg", "src/index.js", "src/lib/util.js"];
    expect(outputs(stack)).toEqual({ assets: selected, archive: selected, runAssets: ["run.txt"] });

    const build = resourceNamed(stack, "build").outputs ?? {};
    const asset = (file: string) => ({
      [specialSigKey]: specialAssetSig,
      path: path.join(workdir, file),
      hash: createHash("sha256")
        .update(fs.readFileSync(path.join(workdir, file)))
        .digest("hex"),
    });
    expect(build.assets).toEqual(Object.fromEntries(selected.map((f) => [f, asset(f)])));
    expect(build.archive).toMatchObject({
      [specialSigKey]: specialArchiveSig,
      assets: Object.fromEntries(selected.map((f) => [f, asset(f)])),
    });
  });
});
