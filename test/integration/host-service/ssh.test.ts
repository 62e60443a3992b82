// The Service operations over SSH for real: a throw-away sshd on 127.0.0.1 (root, key login) stands in for
// a remote host. apply starts a daemon under the private runit, status reports it, a host key that is not
// the pinned one is refused, remove leaves nothing. The same code path the ServiceDaemon provider runs.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resolveService, serviceDrift, ServiceSpec } from "../../../components/host/service/model";
import {
  applyService,
  fileHashes,
  removeService,
  ServiceConnection,
  serviceFiles,
  statusOf,
} from "../../../components/host/service/operations";
import { freePort, startSshd, Sshd } from "../command-provider/sshd";

jest.setTimeout(120_000);

describe("Service operations over SSH", () => {
  let sshd: Sshd;
  let dir: string;
  let spec: ServiceSpec;
  let conn: ServiceConnection;
  const env = { GT_SECRET: "ssh-s3cret-value" };

  beforeAll(async () => {
    if (!fs.existsSync("/usr/bin/runsvdir")) {
      throw new Error("runsvdir is missing. Fix: apt-get install -y runit (in scripts/debian-packages.txt)");
    }
    sshd = await startSshd();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-ssh-services-"));
    const port = await freePort();
    spec = resolveService({
      name: "ssh-web",
      backend: "runit",
      serviceDirectory: path.join(dir, "services"),
      command: ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", String(port)],
      environmentNames: Object.keys(env),
      workingDirectory: dir,
      readiness: { tcp: { address: "127.0.0.1", port }, attempts: 30, intervalSeconds: 0.5 },
    });
    conn = {
      type: "ssh",
      host: "127.0.0.1",
      port: sshd.port,
      user: "root",
      hostKey: sshd.hostKeyEd25519,
      privateKey: sshd.clientKey,
      perDialTimeout: 5,
      dialErrorLimit: 3,
    };
  });

  afterAll(async () => {
    if (spec && conn) await removeService({ type: "local" }, "local", spec).catch(() => undefined);
    if (sshd) await sshd.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("starts the daemon, reports it running as declared, and removes it without a trace", async () => {
    await applyService(conn, "remote", spec, env);
    const files = serviceFiles(spec, env);
    const status = await statusOf(conn, "remote", spec, files);
    expect(serviceDrift(status, fileHashes(files))).toEqual([]);
    const pid = Number(
      fs.readFileSync(path.join(spec.serviceDirectory, "runit/sv/ssh-web/supervise/pid"), "utf8"),
    );
    expect(fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")).toContain(
      "GT_SECRET=ssh-s3cret-value",
    );
    // the secret crossed on stdin, never on a command line: sshd's log of the session has no trace of it
    expect(sshd.log()).not.toContain("ssh-s3cret-value");

    await removeService(conn, "remote", spec);
    expect(fs.existsSync(spec.serviceDirectory)).toBe(false);
    expect((await statusOf(conn, "remote", spec, files)).state).toBe("absent");
  });

  it("refuses a host whose key is not the pinned one", async () => {
    const wrong = { ...conn, hostKey: sshd.hostKeyEcdsa.replace(/^ecdsa-sha2-nistp256/, "ssh-ed25519") };
    await expect(statusOf(wrong, "remote", spec, [])).rejects.toThrow(
      /could not connect to root@127\.0\.0\.1:\d+ after 1 attempt/,
    );
  });

  it("gives up on a closed port after the connection's dial budget", async () => {
    const closed = { ...conn, port: await freePort(), dialErrorLimit: 2 };
    await expect(statusOf(closed, "remote", spec, [])).rejects.toThrow(/after 2 attempts: .*ECONNREFUSED/);
  });
});
