// The SelfSignedCertificate through the real engine: `up` makes a certificate for *.<domain> and <domain>
// that matches its key; the key is in no `stack export`, `stack output`, CLI output or state file in plain
// text (it is in the state, encrypted); a second `up` and a preview keep the same certificate (no changes);
// a changed input (validityDays) replaces it with a new key; `destroy` leaves nothing.
import { createPrivateKey, X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

jest.setTimeout(10 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/certificate");
const DOMAIN = "apps.e2e-cert.test";

interface Outputs {
  certificate: string;
  privateKey: string;
  fingerprint: string;
  notAfter: string;
}

/** Every file under `dir`, concatenated (the file backend: stacks, history, backups). */
function filesUnder(dir: string): string {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

/** The base64 body lines of a PEM key: what would show if it leaked in any form that keeps the PEM. */
const keyLines = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"));

describe("SelfSignedCertificate through the engine", () => {
  let sandbox: PulumiSandbox;
  let first: Outputs;
  const cli: string[] = [];

  const outputs = (): Outputs =>
    JSON.parse(sandbox.ok(["stack", "output", "--json", "--show-secrets"]).stdout) as Outputs;

  beforeAll(() => {
    requireToolchain();
    if (!fs.existsSync("/usr/bin/openssl"))
      throw new Error("/usr/bin/openssl is missing. Fix: apt-get install -y openssl");
    sandbox = new PulumiSandbox("certificate", undefined, PROJECT);
    sandbox.init();
    sandbox.ok(["config", "set", "domain", DOMAIN]);
  });

  afterAll(() => {
    if (!sandbox) return;
    sandbox.run(["destroy", "--yes", "--skip-preview"]);
    sandbox.cleanup();
  });

  it("up: a certificate for *.<domain> and <domain> with its key", () => {
    const up = sandbox.ok(["up", "--yes", "--skip-preview", "--diff"]);
    cli.push(up.stdout + up.stderr);
    first = outputs();
    const x = new X509Certificate(first.certificate);
    expect(x.subjectAltName).toBe(`DNS:*.${DOMAIN}, DNS:${DOMAIN}`);
    expect(x.checkHost(`guestbook-dev.${DOMAIN}`)).toBe(`*.${DOMAIN}`);
    expect(x.checkPrivateKey(createPrivateKey(first.privateKey))).toBe(true);
    expect(first.fingerprint).toBe(x.fingerprint256);
    expect((Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000).toBe(365);
  });

  it("the key is nowhere in plain text: stack export, stack output, CLI output, the state files", () => {
    const state = sandbox.ok(["stack", "export"]).stdout;
    const plainOutputs = sandbox.ok(["stack", "output", "--json"]).stdout;
    const texts: Record<string, string> = {
      "up output": cli.join("\n"),
      "stack export": state,
      "stack output": plainOutputs,
      "state files": filesUnder(path.join(sandbox.dir, "state")),
      "stack config": fs.readFileSync(sandbox.configFile, "utf8"),
    };
    for (const line of keyLines(first.privateKey))
      for (const [what, text] of Object.entries(texts))
        expect({ what, leaks: text.includes(line) }).toEqual({ what, leaks: false });
    // it is in the state, encrypted; the certificate is plain there (it is public)
    expect(JSON.parse(plainOutputs).privateKey).toBe("[secret]");
    const pair = (
      JSON.parse(state) as {
        deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
      }
    ).deployment.resources.find((r) => r.type.endsWith("GeneratedCertificate"));
    expect(pair?.outputs?.privateKey).toMatchObject({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    });
    expect(pair?.outputs?.certificate).toBe(first.certificate);
  });

  it("a second up and a preview keep the same certificate", () => {
    const up = sandbox.ok(["up", "--yes", "--skip-preview"]);
    cli.push(up.stdout + up.stderr);
    const second = outputs();
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.privateKey).toBe(first.privateKey);
    sandbox.ok(["preview", "--expect-no-changes"]);
  });

  it("a changed input replaces it: a new certificate and key", () => {
    sandbox.ok(["config", "set", "validityDays", "30"]);
    const preview = sandbox.ok(["preview", "--diff"]);
    expect(preview.stdout).toMatch(/\+-.*platform-certificate-keypair|replace/);
    const up = sandbox.ok(["up", "--yes", "--skip-preview"]);
    cli.push(up.stdout + up.stderr);
    const third = outputs();
    expect(third.fingerprint).not.toBe(first.fingerprint);
    expect(third.privateKey).not.toBe(first.privateKey);
    const x = new X509Certificate(third.certificate);
    expect((Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000).toBe(30);
    for (const line of keyLines(third.privateKey))
      expect(cli.join("\n") + preview.stdout + sandbox.ok(["stack", "export"]).stdout).not.toContain(line);
  });

  it("destroy leaves no resource", () => {
    sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    const state = JSON.parse(sandbox.ok(["stack", "export"]).stdout) as {
      deployment: { resources?: unknown[] };
    };
    expect(state.deployment.resources ?? []).toEqual([]);
  });
});
