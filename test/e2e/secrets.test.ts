// Secrets through the real engine and our command provider: a secret from stack config is written to
// a file and echoed by a command; it must appear in plain text nowhere in state or CLI output.
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

jest.setTimeout(10 * 60 * 1000);

const SECRET = "gt-e2e-s3cret-7f1c9b2ad4e8";
const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/secret-file");

describe("secrets", () => {
  let sandbox: PulumiSandbox;
  let target: string;

  beforeAll(() => {
    requireToolchain();
    sandbox = new PulumiSandbox("secrets", undefined, PROJECT);
    target = path.join(sandbox.dir, "out", "secret.txt");
    sandbox.init();
    sandbox.ok(["config", "set", "path", target]);
    sandbox.ok(["config", "set", "--secret", "secret", SECRET]);
  });

  afterAll(() => {
    if (!sandbox) return;
    sandbox.run(["destroy", "--yes", "--skip-preview"]);
    sandbox.cleanup();
  });

  it("writes the secret where it belongs and nowhere else in plain text", () => {
    const preview = sandbox.ok(["preview", "--diff"]);
    const up = sandbox.ok(["up", "--yes", "--skip-preview", "--diff"]);
    expect(fs.readFileSync(target, "utf8")).toBe(SECRET);
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);

    const config = fs.readFileSync(sandbox.configFile, "utf8");
    const state = sandbox.ok(["stack", "export"]).stdout;
    const outputs = sandbox.ok(["stack", "output", "--json"]).stdout;
    for (const [what, text] of Object.entries({
      "preview output": preview.stdout + preview.stderr,
      "up output": up.stdout + up.stderr,
      "stack config": config,
      state,
      outputs,
    })) {
      expect({ what, leaks: text.includes(SECRET) }).toEqual({ what, leaks: false });
    }
    // The secret is really in state, encrypted: the command's stdout is a secret output.
    expect(state).toContain('"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"');
    const decrypted = sandbox.ok(["stack", "export", "--show-secrets"]).stdout;
    expect(decrypted).toContain(`the secret is ${SECRET}`);
  });
});
