// AppSource's pure decisions (providers/app-source/model.ts) and its source-tree reader.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  checkAppSource,
  diffAppSource,
  HOST_KEY_ALIAS,
  parseGitUrl,
  publicKeyParts,
  pushKeyName,
  renderKnownHosts,
  renderSshConfig,
  sourceHash,
  type AppSourceInputs,
} from "../../../providers/app-source/model";
import { UNKNOWN } from "../../../providers/application/model";
import { hashSourceDirectory, readSourceTree } from "../../../providers/app-source/source-tree";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc9Sk1MEVoMLHRB1mjEMpSBst3Mwa+BAhsrCePKaJuf root@node";
const GEAR = "0123456789abcdef0123456789abcdef";
const inputs: AppSourceInputs = {
  connection: { server: "http://127.0.0.1:18080", login: "admin", password: "pw" },
  gitUrl: `ssh://${GEAR}@local.apps.dev.geartrain.test:10022/~/git/guestbook.git/`,
  sshHost: { address: "127.0.0.1", port: 10022, hostKey: KEY },
  directory: "/work/checkout/quickstarts/guestbook",
  sourceHash: "a".repeat(64),
  providerVersion: 1,
};
const propertiesOf = (news: Partial<AppSourceInputs>) => checkAppSource(news).map((f) => f.property);

describe("checkAppSource", () => {
  it("accepts good inputs and values not known yet", () => {
    expect(checkAppSource(inputs)).toEqual([]);
    expect(
      checkAppSource({ ...inputs, gitUrl: UNKNOWN, sshHost: UNKNOWN as never, sourceHash: UNKNOWN }),
    ).toEqual([]);
  });

  it.each([
    ["gitUrl", { gitUrl: "https://example.com/x.git" }],
    ["gitUrl", { gitUrl: `ssh://${GEAR}@host;id/~/git/a.git/` }],
    ["sshHost.address", { sshHost: { ...inputs.sshHost, address: "-oProxyCommand=id" } }],
    ["sshHost.address", { sshHost: { ...inputs.sshHost, address: "127.0.0.1\n  ProxyCommand id" } }],
    ["sshHost.port", { sshHost: { ...inputs.sshHost, port: 10023 } }],
    ["sshHost.port", { sshHost: { ...inputs.sshHost, port: 0 } }],
    ["sshHost.hostKey", { sshHost: { ...inputs.sshHost, hostKey: "" } }],
    ["sshHost.hostKey", { sshHost: { ...inputs.sshHost, hostKey: `${KEY}\nProxyCommand id` } }],
    ["directory", { directory: "relative/dir" }],
    ["directory", { directory: "/work/../etc" }],
    ["sourceHash", { sourceHash: "xyz" }],
    ["connection.server", { connection: { server: "" } }],
  ])("refuses a bad %s", (property, change) => {
    expect(propertiesOf({ ...inputs, ...(change as Partial<AppSourceInputs>) })).toEqual([property]);
  });
});

describe("diffAppSource", () => {
  const outs = { ...inputs, commit: "c".repeat(40) };
  it("pushes again only for a new content hash or another git URL", () => {
    expect(diffAppSource(outs, inputs).changes).toBe(false);
    expect(diffAppSource(outs, { ...inputs, sourceHash: "b".repeat(64) })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(diffAppSource(outs, { ...inputs, gitUrl: inputs.gitUrl.replace("0123", "4567") }).changes).toBe(
      true,
    );
    // a moved checkout, a new admin password, another address: nothing to push
    expect(
      diffAppSource(outs, {
        ...inputs,
        directory: "/elsewhere/quickstarts/guestbook",
        connection: { ...inputs.connection, password: "new" },
        sshHost: { ...inputs.sshHost, address: "192.0.2.1" },
      }).changes,
    ).toBe(false);
  });
});

describe("sourceHash", () => {
  const file = (p: string, content: string, executable = false) => ({
    path: p,
    executable,
    content: Buffer.from(content),
  });
  it("depends on paths, contents and the executable bit, not on order", () => {
    const base = sourceHash([file("a.js", "1"), file("b/c.js", "2")]);
    expect(sourceHash([file("b/c.js", "2"), file("a.js", "1")])).toBe(base);
    expect(sourceHash([file("a.js", "1!"), file("b/c.js", "2")])).not.toBe(base);
    expect(sourceHash([file("a2.js", "1"), file("b/c.js", "2")])).not.toBe(base);
    expect(sourceHash([file("a.js", "1", true), file("b/c.js", "2")])).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the ssh client's files", () => {
  it("pin the one host key under an alias and use only the push key", () => {
    const config = renderSshConfig(inputs.sshHost, { identity: "/tmp/p/id", knownHosts: "/tmp/p/known" });
    expect(config).toContain("  HostName 127.0.0.1\n");
    expect(config).toContain("  StrictHostKeyChecking yes\n");
    expect(config).toContain(`  HostKeyAlias ${HOST_KEY_ALIAS}\n`);
    expect(config).toContain("  UserKnownHostsFile /tmp/p/known\n");
    expect(config).toContain("  GlobalKnownHostsFile /dev/null\n");
    expect(config).toContain("  IdentitiesOnly yes\n");
    expect(config).not.toMatch(/StrictHostKeyChecking no|accept-new/);
    expect(renderKnownHosts(inputs.sshHost)).toBe(
      `${HOST_KEY_ALIAS} ${KEY.split(" ").slice(0, 2).join(" ")}\n`,
    );
    expect(() =>
      renderSshConfig({ ...inputs.sshHost, address: "a b" }, { identity: "/i", knownHosts: "/k" }),
    ).toThrow(/address/);
  });

  it("name the push key by the broker's rule and split its public line", () => {
    expect(pushKeyName("00aa11bb22cc")).toBe("geartrain-push-00aa11bb22cc");
    expect(publicKeyParts("ssh-ed25519 AAAAC3Nz geartrain-push\n")).toEqual({
      type: "ssh-ed25519",
      content: "AAAAC3Nz",
    });
    expect(() => publicKeyParts("ssh-rsa AAAA")).toThrow();
  });

  it("read a gear's git URL", () => {
    expect(parseGitUrl(inputs.gitUrl)).toEqual({
      gear: GEAR,
      host: "local.apps.dev.geartrain.test",
      port: 10022,
    });
    expect(parseGitUrl(`ssh://${GEAR}@node1.example.com/~/git/web.git/`)?.port).toBe(22);
    expect(parseGitUrl("ssh://root@host/~/git/a.git/")).toBeNull();
  });
});

describe("readSourceTree", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-appsource-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes regular files, keeps the executable bit, skips .git and node_modules", () => {
    fs.writeFileSync(path.join(dir, "server.js"), "x");
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin/run"), "#!/bin/sh\n", { mode: 0o755 });
    fs.mkdirSync(path.join(dir, "node_modules/pg"), { recursive: true });
    fs.writeFileSync(path.join(dir, "node_modules/pg/index.js"), "x");
    fs.mkdirSync(path.join(dir, ".git"));
    fs.writeFileSync(path.join(dir, ".git/HEAD"), "x");
    const files = readSourceTree(dir);
    expect(files.map((f) => [f.path, f.executable])).toEqual([
      ["bin/run", true],
      ["server.js", false],
    ]);
    const before = hashSourceDirectory(dir);
    fs.writeFileSync(path.join(dir, "node_modules/pg/index.js"), "changed");
    expect(hashSourceDirectory(dir)).toBe(before);
    fs.writeFileSync(path.join(dir, "server.js"), "y");
    expect(hashSourceDirectory(dir)).not.toBe(before);
  });

  it("refuses a link and an empty directory, naming the field", () => {
    expect(() => readSourceTree(dir, "apps[0].source")).toThrow(/invalid apps\[0\]\.source: .* has no files/);
    fs.symlinkSync("/etc/passwd", path.join(dir, "passwd"));
    expect(() => readSourceTree(dir, "apps[0].source")).toThrow(
      /invalid apps\[0\]\.source: passwd .*not a regular file/,
    );
  });

  it("hashes the guestbook quickstart", () => {
    expect(hashSourceDirectory(path.join(__dirname, "../../../quickstarts/guestbook"))).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });
});
