// The multi-host harness (test/helpers/test-hosts, docs/test-hosts.md) for real: two hosts, each reached over
// SSH on its own address with its pinned host key; what one host does to its /etc/passwd, /etc/nginx, gear base
// directory, processes and loopback is not seen by the other or by the machine; the hosts reach each other and
// the machine over the run's bridge and nothing else; destroy() leaves nothing, and a leftover fails the check.
// Root; run under `flock /tmp/geartrain-heavy.lock`.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client } from "ssh2";
import {
  TestHost,
  TestHosts,
  assertNoLeftovers,
  createTestHosts,
  destroyStaleRuns,
  findLeftovers,
} from "../helpers/test-hosts";

// a cold image build (debootstrap) takes a few minutes once; warm runs start both hosts in seconds
jest.setTimeout(600_000);

let th: TestHosts | undefined;
let a: TestHost;
let b: TestHost;

beforeAll(async () => {
  th = await createTestHosts(2, {
    names: ["alpha", "beta"],
    // the machine's Node.js, as the stage stack will give node hosts their agent
    readOnlyBinds: [{ source: process.execPath, target: "/usr/local/bin/node" }],
  });
  [a, b] = th.hosts;
});

afterAll(async () => {
  await th?.destroy(); // a second destroy is a no-op; this one only matters if a test failed early
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a fixed command on `h` over SSH as root, the host key pinned; values go on stdin, never in `command`. */
function ssh(h: TestHost, command: string, stdin = ""): Promise<Result> {
  const expected = Buffer.from(h.hostPublicKey.split(" ")[1], "base64");
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on("ready", () => {
      c.exec(command, (err, stream) => {
        if (err) {
          c.end();
          reject(err);
          return;
        }
        let stdout = "";
        let stderr = "";
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", (code: number | null) => {
          c.end();
          resolve({ code, stdout, stderr });
        });
        stream.end(stdin);
      });
    });
    c.on("error", (e) => reject(new Error(`ssh ${h.name} (${h.address}): ${e.message}`)));
    c.connect({
      host: h.address,
      port: h.port,
      username: h.user,
      privateKey: h.privateKey,
      readyTimeout: 15000,
      hostVerifier: (key: Buffer) => {
        return key.equals(expected);
      },
    });
  });
}

// connects from inside a host to {host, port} read from stdin; prints "connected" and the first line the
// server sends, or the error's name and errno
const PROBE = `python3 -c '
import json, socket, sys
t = json.load(sys.stdin)
try:
    s = socket.create_connection((t["host"], t["port"]), 3)
    print("connected", s.recv(64).decode(errors="replace").split("\\n")[0].strip())
except OSError as e:
    print(type(e).__name__, e.errno)
'`;

async function probe(from: TestHost, host: string, port: number): Promise<string> {
  const r = await ssh(from, PROBE, JSON.stringify({ host, port }));
  expect(r).toMatchObject({ code: 0 });
  return r.stdout.trim();
}

/** A TCP server on the machine that greets and closes; resolves with its port. */
function greeter(address: string, greeting: string): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => s.end(`${greeting}\n`));
    srv.on("error", reject);
    srv.listen(0, address, () =>
      resolve({ port: (srv.address() as net.AddressInfo).port, close: () => srv.close() }),
    );
  });
}

/** true while pid is a live process (not gone, not a zombie waiting for the machine's init to reap it) */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("two test hosts", () => {
  it("each answers SSH as root on its own address, with its own pinned host key and hostname", async () => {
    expect(a.address).not.toBe(b.address);
    expect(a.hostPublicKey).not.toBe(b.hostPublicKey);
    for (const h of [a, b]) {
      const r = await ssh(h, "hostname; id -u; ip -o -4 addr show dev eth0");
      expect(r.code).toBe(0);
      const [name, uid, addr] = r.stdout.trim().split("\n");
      expect(name).toBe(h.name);
      expect(uid).toBe("0");
      expect(addr).toContain(` inet ${h.address}/24 `);
    }
    // the run's one client key is accepted by every host too (a stack's single geartrain:sshPrivateKey)
    for (const h of [a, b]) {
      expect(await ssh({ ...h, privateKey: th!.privateKey }, "hostname")).toMatchObject({
        code: 0,
        stdout: `${h.name}\n`,
      });
    }
    // the wrong pinned key is refused: b's key does not verify a
    await expect(ssh({ ...a, hostPublicKey: b.hostPublicKey }, "true")).rejects.toThrow(/ssh alpha/);
  });

  it("do not share /etc/passwd: a user added on one host exists only there", async () => {
    expect(await ssh(a, "useradd --create-home gtthuser && getent passwd gtthuser")).toMatchObject({
      code: 0,
    });
    expect((await ssh(b, "getent passwd gtthuser")).code).toBe(2); // 2: not found
    expect(fs.readFileSync("/etc/passwd", "utf8")).not.toMatch(/^gtthuser:/m);
    expect(fs.existsSync("/home/gtthuser")).toBe(false);
  });

  it("do not share /etc/nginx or the gear base directory", async () => {
    const writeA =
      "echo 'server { listen 8081; }' > /etc/nginx/conf.d/only-alpha.conf && mkdir -p /var/lib/geartrain/gears/g1";
    expect(await ssh(a, writeA)).toMatchObject({ code: 0 });
    expect((await ssh(a, "ls /etc/nginx/conf.d /var/lib/geartrain/gears")).stdout).toMatch(
      /only-alpha\.conf[\s\S]*g1/,
    );
    expect(
      await ssh(b, "test ! -e /etc/nginx/conf.d/only-alpha.conf && test ! -e /var/lib/geartrain"),
    ).toMatchObject({
      code: 0,
    });
    expect(fs.existsSync("/etc/nginx/conf.d/only-alpha.conf")).toBe(false);
    // and each runs its own nginx on its own port 80 without a clash
    for (const h of [a, b]) {
      const start = "mkdir -p /var/www/html && hostname > /var/www/html/index.html && nginx -t 2>&1 && nginx";
      expect(await ssh(h, start)).toMatchObject({ code: 0 });
    }
    const get = 'read -r url && curl -sS --max-time 5 -- "$url"';
    expect(await ssh(a, get, `http://${b.address}/\n`)).toMatchObject({ code: 0, stdout: "beta\n" });
    expect(await ssh(b, get, `http://${a.address}/\n`)).toMatchObject({ code: 0, stdout: "alpha\n" });
  });

  it("do not see each other's processes", async () => {
    expect(await ssh(a, "setsid sleep 600 >/dev/null 2>&1 < /dev/null & echo started")).toMatchObject({
      code: 0,
    });
    expect((await ssh(a, "ps -eo comm")).stdout).toMatch(/^sleep$/m);
    expect((await ssh(b, "ps -eo comm")).stdout).not.toMatch(/^sleep$/m);
    expect((await ssh(a, "cat /proc/1/cmdline | tr '\\0' ' '")).stdout).toContain("geartrain-test-host-init");
  });

  it("reach each other and the machine over the bridge, and nothing else", async () => {
    // host to host, both ways
    expect(await probe(a, b.address, b.port)).toMatch(/^connected SSH-2\.0-OpenSSH/);
    expect(await probe(b, a.address, a.port)).toMatch(/^connected SSH-2\.0-OpenSSH/);
    // host to the machine at the gateway address (where the stage stack's bus and datastore will listen)
    const onGateway = await greeter(th!.gateway, "machine");
    const onLoopback = await greeter("127.0.0.1", "loopback");
    try {
      expect(await probe(a, th!.gateway, onGateway.port)).toBe("connected machine");
      // a host's 127.0.0.1 is its own: the machine's loopback service is not there
      expect(await probe(a, "127.0.0.1", onLoopback.port)).toBe("ConnectionRefusedError 111");
    } finally {
      onGateway.close();
      onLoopback.close();
    }
    // no route out of the subnet: the machine's own upstream gateway is unreachable from a host
    const route = execFileSync("ip", ["-4", "route", "show", "default"], { encoding: "utf8" });
    const upstream = /via (\S+)/.exec(route)?.[1] ?? "192.0.2.1";
    expect(await probe(a, upstream, 53)).toBe("OSError 101"); // ENETUNREACH
    expect((await ssh(a, "ip -4 route")).stdout.trim()).toBe(
      `${th!.plan.subnet} dev eth0 proto kernel scope link src ${a.address}`,
    );
  });

  it("see the machine's read-only binds, and nothing else of the machine's files", async () => {
    const r = await ssh(
      a,
      "node -e 'console.log(process.version)' && ! touch /usr/local/bin/node 2>/dev/null",
    );
    expect(r).toMatchObject({ code: 0, stdout: `${process.version}\n` });
    expect((await ssh(b, "test -e /work || test -e /root/.cache || echo clean")).stdout).toBe("clean\n");
  });

  it("carry what the platform roles run: PostgreSQL, ActiveMQ and Java, BIND and its tools, runit, nginx, git", async () => {
    const r = await ssh(
      a,
      [
        "/usr/lib/postgresql/15/bin/postgres --version",
        "/usr/lib/postgresql/15/bin/initdb --version",
        "/usr/sbin/named -v",
        "nsupdate -V 2>&1",
        "dig -v 2>&1",
        "test -f /usr/share/activemq/bin/activemq.jar && echo activemq.jar",
        "java -version 2>&1 | head -n1",
        "command -v runsvdir sv chpst",
        "nginx -v 2>&1",
        "git --version",
        "command -v nft iptables fuser pg_isready setpriv flock",
      ].join(" && "),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^postgres \(PostgreSQL\) 15\./m);
    expect(out).toMatch(/^initdb \(PostgreSQL\) 15\./m);
    expect(out).toMatch(/^BIND 9\.18\./m);
    expect(out).toMatch(/^nsupdate 9\.18\./m);
    expect(out).toMatch(/^DiG 9\.18\./m);
    expect(out).toMatch(/^activemq\.jar$/m);
    expect(out).toMatch(/^openjdk version "17\./m);
    expect(out).toMatch(/^\/usr\/bin\/runsvdir\n\/usr\/bin\/sv\n\/usr\/bin\/chpst$/m);
    expect(out).toMatch(/^nginx version: nginx\/1\.22/m);
    expect(out).toMatch(/^git version 2\./m);
    expect(out).toMatch(/\/fuser\n/);
    // the daemons' postinst scripts ran in the image, but policy-rc.d kept every one of them from starting
    expect((await ssh(a, "ps -eo comm")).stdout).not.toMatch(/^(postgres|java|named|runsvdir)$/m);
  });

  it("exec runs inside the host without SSH", async () => {
    const r = await b.exec(["sh", "-c", "hostname; cat /etc/geartrain-test-host"]);
    expect(r.stdout).toMatch(/^beta\ntest hosts image /);
  });

  it("destroy removes every namespace, link, mount and directory, and a leftover fails the check", async () => {
    const hosts = th!;
    await hosts.destroy();
    await hosts.assertNoLeftovers();
    expect(fs.existsSync(a.root)).toBe(false);
    for (const h of [a, b]) expect(running(h.initPid)).toBe(false);

    // the check is not vacuous: a namespace named like the run's fails it until it is removed
    const ns = `${a.netns.replace(/-\d+$/, "")}-99`;
    execFileSync("ip", ["netns", "add", ns]);
    try {
      expect(await findLeftovers(hosts.runId)).toEqual([`network namespace ${ns}`]);
      await expect(hosts.assertNoLeftovers()).rejects.toThrow(`network namespace ${ns}`);
    } finally {
      execFileSync("ip", ["netns", "del", ns]);
    }
    await assertNoLeftovers(hosts.runId);
  });
});

describe("runs", () => {
  it("two runs at once take different subnets and cannot reach each other", async () => {
    const [x, y] = await Promise.all([createTestHosts(1), createTestHosts(1)]);
    try {
      expect(x.plan.subnet).not.toBe(y.plan.subnet);
      expect(await probe(x.hosts[0], x.gateway, 1)).toBe("ConnectionRefusedError 111"); // its own bridge answers
      expect(await probe(x.hosts[0], y.hosts[0].address, 22)).toBe("OSError 101"); // no route to the other run
    } finally {
      await Promise.all([x.destroy(), y.destroy()]);
    }
    await x.assertNoLeftovers();
    await y.assertNoLeftovers();
  });

  it("a bad option is refused naming the field, before anything is made", async () => {
    const before = await findLeftovers();
    await expect(
      createTestHosts(1, { readOnlyBinds: [{ source: "/nonexistent/gtth", target: "/opt/x" }] }),
    ).rejects.toThrow("invalid readOnlyBinds[0].source: /nonexistent/gtth does not exist on this machine");
    await expect(createTestHosts(1, { names: ["Bad_Name"] })).rejects.toThrow("invalid names[0]");
    expect(await findLeftovers()).toEqual(before);
  });

  it("a run whose test process died is removed by the next run", async () => {
    // what a SIGKILLed jest leaves: a claim naming a dead pid, a namespace, a bridge, a mount, the run directory
    // (should this test fail, the next run's createTestHosts removes them the same way)
    const dead = spawnSync("true").pid!;
    const id = "fffe";
    const claim = "/run/geartrain-test-hosts/198.18.255.json";
    fs.mkdirSync(path.dirname(claim), { recursive: true });
    fs.writeFileSync(claim, JSON.stringify({ runId: id, pid: dead, k: 255 }), { flag: "wx" });
    execFileSync("ip", ["netns", "add", `gtth-${id}-0`]);
    execFileSync("ip", ["link", "add", `gtth${id}b`, "type", "bridge"]);
    const root = path.join(os.tmpdir(), `gtth-${id}/0/root`);
    fs.mkdirSync(root, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "tmpfs", root]); // stands for its overlay
    expect(await findLeftovers(id)).toHaveLength(5);
    expect(await destroyStaleRuns()).toEqual([id]);
    await assertNoLeftovers(id);
  });
});
