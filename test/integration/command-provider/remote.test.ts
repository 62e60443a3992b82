// command:remote:Command and command:remote:CopyToRemote against a real OpenSSH server started by
// the test on 127.0.0.1 (see sshd.ts), through the provider methods.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { withOperationContext } from "../../../plugins/command/context";
import { CommandProvider } from "../../../plugins/command/provider";
import {
  COPY,
  REMOTE,
  assetArchive,
  captureSink,
  fileArchive,
  fileAsset,
  remoteAsset,
  secret,
  stringAsset,
  urn,
} from "../../unit/command-provider/helpers";
import { Sshd, freePort, startSshd } from "./sshd";

jest.setTimeout(60000);

let sshd: Sshd;
let work: string;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gt-remote-"));
});

afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function connection(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host: "127.0.0.1",
    port: sshd.port,
    user: "root",
    privateKey: sshd.clientKey,
    dialErrorLimit: 2,
    perDialTimeout: 10,
    ...extra,
  };
}

function provider() {
  const sink = captureSink();
  return { sink, p: new CommandProvider({ sink, dialDelayMs: () => 50 }) };
}

const cmdUrn = urn(REMOTE, "remote");
const copyUrn = urn(COPY, "copy");

describe("command:remote:Command", () => {
  it("creates, updates and deletes over SSH with previous output in the environment", async () => {
    const { p, sink } = provider();
    const log = path.join(work, "log");
    const inputs = {
      connection: secret(connection()),
      create: `echo created >> ${log}; whoami; echo warn >&2`,
      update: `echo "update saw [$PULUMI_COMMAND_STDOUT|$PULUMI_COMMAND_STDERR]" >> ${log}; echo two`,
      delete: `echo "delete saw [$PULUMI_COMMAND_STDOUT]" >> ${log}`,
    };
    const created = await p.create(cmdUrn, inputs);
    expect(created.outs).toMatchObject({ stdout: "root", stderr: "warn" });
    expect(created.outs.connection).toEqual(inputs.connection); // stays a secret
    expect(sink.messages()).toEqual(expect.arrayContaining(["root", "warn"]));

    const news = { ...inputs, environment: { A: "1" } };
    const updated = await p.update(created.id, cmdUrn, created.outs, news);
    expect(updated.outs.stdout).toBe("two");
    await p.delete(created.id, cmdUrn, updated.outs);
    expect(fs.readFileSync(log, "utf8")).toBe("created\nupdate saw [root|warn]\ndelete saw [two]\n");
  });

  it("passes environment values exactly, whatever characters they hold, and passes stdin", async () => {
    const { p } = provider();
    const tricky = `it's "quoted" $HOME \`id\` $(id) ; rm -rf /nonexistent \\ back\nnewline 'end'`;
    const created = await p.create(cmdUrn, {
      connection: connection(),
      create: 'printf "%s" "$TRICKY" > ' + path.join(work, "env") + "; cat",
      environment: { TRICKY: tricky, OTHER: "x" },
      stdin: "from stdin",
    });
    expect(fs.readFileSync(path.join(work, "env"), "utf8")).toBe(tricky);
    expect(created.outs.stdout).toBe("from stdin");
  });

  it("makes the output secret when a secret other than the connection reaches the command", async () => {
    const { p, sink } = provider();
    const created = await p.create(cmdUrn, {
      connection: secret(connection()),
      create: 'echo "pw=$PW"',
      environment: { PW: secret("remote-pw-1") },
    });
    expect(created.outs.stdout).toEqual(secret("pw=remote-pw-1"));
    expect(JSON.stringify(sink.entries)).not.toMatch(/remote-pw-1/);
  });

  it("rejects an environment variable name that is not a plain identifier", async () => {
    const { p } = provider();
    const u = urn(REMOTE, "bad-env");
    const check = await p.check(
      u,
      {},
      { connection: connection(), create: "true", environment: { "A;id": "x" } },
    );
    expect(check.failures?.[0]?.reason).toMatch(/environment variable name "A;id" is invalid/);
    await expect(
      p.create(u, { connection: connection(), create: "true", environment: { "A;id": "x" } }),
    ).rejects.toThrow(/is invalid/);
  });

  it("fails as upstream says it, with the command and its output", async () => {
    const { p } = provider();
    await expect(
      p.create(cmdUrn, { connection: connection(), create: "echo broken >&2; exit 4" }),
    ).rejects.toThrow('Process exited with status 4: running "echo broken >&2; exit 4":\nbroken\n');
  });

  it('logs nothing with logging "none"', async () => {
    const { p, sink } = provider();
    const created = await p.create(cmdUrn, {
      connection: connection(),
      create: "echo hush; echo hush2 >&2",
      logging: "none",
    });
    expect(created.outs).toMatchObject({ stdout: "hush", stderr: "hush2" });
    expect(JSON.stringify(sink.entries)).not.toMatch(/hush/);
  });

  it("accepts the pinned host key (ed25519, and ecdsa by asking the server for that key type)", async () => {
    const { p } = provider();
    for (const hostKey of [sshd.hostKeyEd25519, sshd.hostKeyEcdsa]) {
      const created = await p.create(cmdUrn, { connection: connection({ hostKey }), create: "echo pinned" });
      expect(created.outs.stdout).toBe("pinned");
    }
  });

  it("refuses a server whose host key does not match, without retrying", async () => {
    const { p } = provider();
    const other = fs.readFileSync(path.join(sshd.dir, "stranger.pub"), "utf8");
    const started = Date.now();
    await expect(
      p.create(cmdUrn, {
        connection: connection({ hostKey: other, dialErrorLimit: 5 }),
        create: "touch " + path.join(work, "ran"),
      }),
    ).rejects.toThrow(
      /host key verification failed for root@127\.0\.0\.1:\d+: expected ssh-ed25519 SHA256:\S+ .* presented ssh-ed25519 SHA256:/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fs.existsSync(path.join(work, "ran"))).toBe(false);
  });

  it("gives up after dialErrorLimit failed attempts against a closed port", async () => {
    const sink = captureSink();
    const delays: number[] = [];
    const p = new CommandProvider({ sink, dialDelayMs: (n) => (delays.push(n), 100) });
    const closed = await freePort();
    await expect(
      p.create(cmdUrn, { connection: connection({ port: closed, dialErrorLimit: 3 }), create: "true" }),
    ).rejects.toThrow(
      /could not connect to root@127\.0\.0\.1:\d+ after 3 attempts \(connection\.dialErrorLimit is 3\); last error: .*ECONNREFUSED/,
    );
    expect(delays).toEqual([1, 2]); // waited between attempts, not after the last
    expect(
      sink.entries.filter(
        (e) => e.severity === "debug" && /attempt \d to connect to .* failed/.test(e.message),
      ),
    ).toHaveLength(2);
  });

  it("keeps dialing with dialErrorLimit -1 until the engine's timeout runs out", async () => {
    const sink = captureSink();
    const p = new CommandProvider({ sink, dialDelayMs: () => 100 });
    const closed = await freePort();
    await expect(
      withOperationContext({ timeoutSeconds: 2 }, () =>
        p.create(cmdUrn, { connection: connection({ port: closed, dialErrorLimit: -1 }), create: "true" }),
      ),
    ).rejects.toThrow(/connecting to root@127\.0\.0\.1:\d+ timed out after 2s \(customTimeouts\.create\)/);
    expect(sink.entries.filter((e) => /attempt \d+ to connect/.test(e.message)).length).toBeGreaterThan(3);
  });

  it("stops a remote command that outlives the engine's timeout", async () => {
    const { p } = provider();
    await expect(
      withOperationContext({ timeoutSeconds: 2 }, () =>
        p.create(cmdUrn, { connection: connection(), create: "sleep 30" }),
      ),
    ).rejects.toThrow(
      /create command on root@127\.0\.0\.1:\d+ timed out after 2s \(customTimeouts\.create\)/,
    );
  });

  it("does not retry an authentication failure", async () => {
    const { p } = provider();
    await expect(
      p.create(cmdUrn, {
        connection: connection({ privateKey: sshd.strangerKey, dialErrorLimit: 5 }),
        create: "true",
      }),
    ).rejects.toThrow(/authentication failed for root@127\.0\.0\.1:\d+ \(tried publickey\)/);
  });

  it("uses an encrypted private key with privateKeyPassword", async () => {
    const { p } = provider();
    const created = await p.create(cmdUrn, {
      connection: connection({
        privateKey: sshd.encryptedClientKey,
        privateKeyPassword: sshd.encryptedClientKeyPassphrase,
      }),
      create: "echo unlocked",
    });
    expect(created.outs.stdout).toBe("unlocked");
  });

  it("connects through a jump host (proxy)", async () => {
    const { p } = provider();
    const logins = () => (sshd.log().match(/Accepted publickey for root/g) ?? []).length;
    const before = logins();
    const created = await p.create(cmdUrn, {
      connection: connection({
        hostKey: sshd.hostKeyEd25519,
        proxy: {
          host: "127.0.0.1",
          port: sshd.port,
          user: "root",
          privateKey: sshd.clientKey,
          hostKey: sshd.hostKeyEcdsa,
        },
      }),
      create: "echo via-proxy",
    });
    expect(created.outs.stdout).toBe("via-proxy");
    // One login on the jump host, one on the target through the forwarded channel.
    await new Promise((r) => setTimeout(r, 200));
    expect(logins() - before).toBe(2);
  });

  it("reports a jump host that refuses the key as such", async () => {
    const { p } = provider();
    await expect(
      p.create(cmdUrn, {
        connection: connection({
          proxy: { host: "127.0.0.1", port: sshd.port, privateKey: sshd.strangerKey },
        }),
        create: "true",
      }),
    ).rejects.toThrow(/authentication failed for root@127\.0\.0\.1:\d+/);
  });

  it("does not hang when the remote command leaves a background process", async () => {
    const { p } = provider();
    const started = Date.now();
    const created = await p.create(cmdUrn, { connection: connection(), create: "sleep 30 & echo $!" });
    const pid = Number(created.outs.stdout);
    try {
      expect(Date.now() - started).toBeLessThan(10000);
      expect(pid).toBeGreaterThan(0);
    } finally {
      if (pid > 0) process.kill(pid, "SIGKILL"); // never kill(0): that is our own process group
    }
  });
});

describe("command:remote:CopyToRemote", () => {
  it("copies a StringAsset to a file, creating parent directories; a secret one gets mode 0600", async () => {
    const { p } = provider();
    const dest = path.join(work, "etc", "app", "app.conf");
    const created = await p.create(copyUrn, {
      connection: connection(),
      source: stringAsset("key = value\n"),
      remotePath: dest,
    });
    expect(fs.readFileSync(dest, "utf8")).toBe("key = value\n");
    expect(created.outs).toMatchObject({ remotePath: dest });

    const secretDest = path.join(work, "secret.conf");
    await p.create(copyUrn, {
      connection: connection(),
      source: secret(stringAsset("password=x")),
      remotePath: secretDest,
    });
    expect(fs.statSync(secretDest).mode & 0o777).toBe(0o600);

    // Update overwrites in place and keeps the file's mode.
    fs.chmodSync(dest, 0o640);
    await p.update(created.id, copyUrn, created.outs, {
      connection: connection(),
      source: stringAsset("key = new\n"),
      remotePath: dest,
    });
    expect(fs.readFileSync(dest, "utf8")).toBe("key = new\n");
    expect(fs.statSync(dest).mode & 0o777).toBe(0o640);
  });

  it("copies a FileAsset to a path, or into an existing directory", async () => {
    const { p } = provider();
    const src = path.join(work, "local.txt");
    fs.writeFileSync(src, "file contents", { mode: 0o750 });
    const dest = path.join(work, "remote", "renamed.txt");
    await p.create(copyUrn, { connection: connection(), source: fileAsset(src), remotePath: dest });
    expect(fs.readFileSync(dest, "utf8")).toBe("file contents");
    expect(fs.statSync(dest).mode & 0o777).toBe(0o750); // new files take the local file's mode

    const intoDir = path.join(work, "remote");
    await p.create(copyUrn, { connection: connection(), source: fileAsset(src), remotePath: intoDir });
    expect(fs.readFileSync(path.join(intoDir, "local.txt"), "utf8")).toBe("file contents");
  });

  it("copies a directory archive recursively into remotePath, idempotently; a trailing slash copies the contents", async () => {
    const { p } = provider();
    const src = path.join(work, "site");
    fs.mkdirSync(path.join(src, "one", "two"), { recursive: true });
    fs.writeFileSync(path.join(src, "index.html"), "<h1>hi</h1>");
    fs.writeFileSync(path.join(src, "one", "a.txt"), "a");
    fs.writeFileSync(path.join(src, "one", "two", "b.txt"), "b");

    const destRoot = path.join(work, "srv", "www");
    const inputs = { connection: connection(), source: fileArchive(src), remotePath: destRoot };
    const created = await p.create(copyUrn, inputs);
    const copied = path.join(destRoot, "site");
    expect(fs.readFileSync(path.join(copied, "index.html"), "utf8")).toBe("<h1>hi</h1>");
    expect(fs.readFileSync(path.join(copied, "one", "two", "b.txt"), "utf8")).toBe("b");

    // Copying again (an update) lands in the same place, not in site/site.
    fs.writeFileSync(path.join(src, "one", "a.txt"), "a2");
    await p.update(created.id, copyUrn, created.outs, { ...inputs, source: fileArchive(src, "changed") });
    expect(fs.readFileSync(path.join(copied, "one", "a.txt"), "utf8")).toBe("a2");
    expect(fs.existsSync(path.join(copied, "site"))).toBe(false);

    const contentsDest = path.join(work, "contents");
    await p.create(copyUrn, {
      connection: connection(),
      source: fileArchive(src + "/"),
      remotePath: contentsDest,
    });
    expect(fs.readdirSync(contentsDest).sort()).toEqual(["index.html", "one"]);
  });

  it("refuses to copy a directory onto an existing file", async () => {
    const { p } = provider();
    const src = path.join(work, "d");
    fs.mkdirSync(src);
    const file = path.join(work, "plain-file");
    fs.writeFileSync(file, "x");
    await expect(
      p.create(copyUrn, { connection: connection(), source: fileArchive(src), remotePath: file }),
    ).rejects.toThrow(/is an existing file; cannot copy a directory onto it/);
  });

  it("rejects sources it cannot copy in check", async () => {
    const { p } = provider();
    for (const source of [remoteAsset("https://example.invalid/x"), assetArchive({})]) {
      const res = await p.check(copyUrn, {}, { connection: connection(), source, remotePath: "/tmp/x" });
      expect(res.failures?.[0]?.reason).toMatch(
        /^source: a Remote(Asset|Archive) cannot be copied|AssetArchive cannot be copied/,
      );
    }
  });

  it("deleting leaves the copied files and needs no connection", async () => {
    const { p } = provider();
    await expect(
      p.delete("id", copyUrn, {
        connection: connection({ port: 1 }),
        source: stringAsset("x"),
        remotePath: "/nonexistent",
      }),
    ).resolves.toBeUndefined();
  });
});
