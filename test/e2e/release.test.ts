// InstalledRelease through the real engine onto one namespace test host (test/helpers/test-hosts) over SSH
// with its pinned host key: `up` builds (or reuses) the archive, uploads it and unpacks it into
// /opt/geartrain/releases/<key>, and a command run there by the release's own Node.js prints
// `geartrain --version`; a preview after it shows no change and a second `up` installs nothing; the private
// key is in no plain state; destroy removes /opt/geartrain. Root; run under `flock /tmp/geartrain-heavy.lock`.
import * as path from "path";
import { createTestHosts, TestHost, TestHosts } from "./../helpers/test-hosts";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

jest.setTimeout(15 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/release");

describe("InstalledRelease on an SSH test host", () => {
  let th: TestHosts | undefined;
  let h: TestHost;
  let sandbox: PulumiSandbox | undefined;
  let out: { key: string; node: string; entry: string; versionLine: string; installed: string[] };
  const installedAt = async () =>
    (await h.exec(["cat", `/opt/geartrain/releases/${out.key}/.installed`])).stdout.trim();

  beforeAll(async () => {
    requireToolchain();
    th = await createTestHosts(1, { names: ["rel-e2e"] });
    h = th.hosts[0];
    sandbox = new PulumiSandbox("release", undefined, PROJECT);
    sandbox.init();
    sandbox.ok(["config", "set", "address", h.address]);
    sandbox.ok(["config", "set", "port", String(h.port)]);
    sandbox.ok(["config", "set", "hostKey", h.hostPublicKey]);
    // the private key stays in its file (0600, the run's directory): the program reads it into a secret
    sandbox.ok(["config", "set", "privateKeyFile", h.privateKeyPath]);
  });

  afterAll(async () => {
    if (sandbox) {
      sandbox.run(["destroy", "--yes", "--skip-preview"]);
      sandbox.cleanup();
    }
    await th?.destroy();
    await th?.assertNoLeftovers();
  });

  it("up installs the release and its Node.js runs geartrain on the host", async () => {
    sandbox!.ok(["up", "--yes", "--skip-preview"]);
    out = JSON.parse(sandbox!.ok(["stack", "output", "--json"]).stdout);
    expect(out.key).toMatch(/^[0-9a-f]{16}$/);
    expect(out.node).toBe(`/opt/geartrain/releases/${out.key}/runtime/bin/node`);
    expect(out.entry).toBe(`/opt/geartrain/releases/${out.key}/bin/geartrain`);
    expect(out.versionLine.trim()).toBe(`geartrain 0.1.0 (release ${out.key}, node ${process.version})`);
    expect(out.installed).toEqual([out.key]);
    expect((await h.exec(["readlink", "/opt/geartrain/current"])).stdout).toBe(`releases/${out.key}\n`);
  });

  it("a preview after it shows no change, and a second up installs nothing", async () => {
    const before = await installedAt();
    sandbox!.ok(["preview", "--expect-no-changes"]);
    const again = sandbox!.ok(["up", "--yes", "--skip-preview"]);
    expect(again.stdout).not.toMatch(/updated|created|replaced/);
    expect(await installedAt()).toBe(before);
  });

  it("keeps the private key out of the state in plain text", () => {
    const state = sandbox!.ok(["stack", "export"]).stdout;
    const body = h.privateKey.split("\n")[1];
    expect(body.length).toBeGreaterThan(20);
    expect(state).not.toContain(body);
  });

  it("destroy removes the release and its directory from the host", async () => {
    sandbox!.ok(["destroy", "--yes", "--skip-preview"]);
    expect((await h.exec(["sh", "-c", "test -e /opt/geartrain || echo gone"])).stdout).toBe("gone\n");
  });
});
