// The runit backend's semantics on this machine, through the operations the ServiceDaemon provider runs:
// restart policies (always, on-failure, no), a service that requires another, a readiness command run as
// the service's user, a readiness timeout that names the service and the check, and remove leaving nothing.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resolveService, ServiceSpec, ServiceSpecInput } from "../../../components/host/service/model";
import {
  applyService,
  removeService,
  ServiceConnection,
  serviceFiles,
  statusOf,
} from "../../../components/host/service/operations";

jest.setTimeout(120_000);

const local: ServiceConnection = { type: "local" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runit services on this machine", () => {
  let root: string;
  const made: ServiceSpec[] = [];

  beforeAll(() => {
    if (!fs.existsSync("/usr/bin/runsvdir")) {
      throw new Error("runsvdir is missing. Fix: apt-get install -y runit (in scripts/debian-packages.txt)");
    }
    root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gt-runit-")), "services");
  });

  afterAll(async () => {
    for (const s of made.reverse()) await removeService(local, "local", s).catch(() => undefined);
    fs.rmSync(path.dirname(root), { recursive: true, force: true });
  });

  const spec = (input: Omit<ServiceSpecInput, "backend" | "serviceDirectory">): ServiceSpec => {
    const s = resolveService({ ...input, backend: "runit", serviceDirectory: root });
    made.push(s);
    return s;
  };
  const pidOf = (s: ServiceSpec) =>
    Number(fs.readFileSync(path.join(root, "runit/sv", s.name, "supervise/pid"), "utf8").trim() || "0");
  const stateOf = async (s: ServiceSpec) => (await statusOf(local, "local", s, serviceFiles(s, {}))).state;

  it("restarts under always, not after a clean exit under on-failure, never under no", async () => {
    const always = spec({ name: "always", command: ["/bin/sleep", "1"] });
    const onFailureOk = spec({ name: "onfail-ok", command: ["/bin/sleep", "1"], restart: "on-failure" });
    const onFailureBad = spec({
      name: "onfail-bad",
      command: ["/bin/sh", "-c", "sleep 1; exit 3"],
      restart: "on-failure",
    });
    // once `again` exists, a start of `no` runs for good (so the restart by apply below stays up)
    const again = path.join(path.dirname(root), "again");
    const no = spec({
      name: "no",
      command: ["/bin/sh", "-c", 'test -e "$0" && exec sleep 1000; sleep 1; exit 3', again],
      restart: "no",
    });
    for (const s of [always, onFailureOk, onFailureBad, no]) await applyService(local, "local", s, {});
    const first = [always, onFailureBad].map(pidOf);
    await sleep(3500);
    expect(await stateOf(always)).toBe("run");
    expect(await stateOf(onFailureBad)).toBe("run");
    expect([always, onFailureBad].map(pidOf)).not.toEqual(first);
    expect(await stateOf(onFailureOk)).toBe("down");
    expect(await stateOf(no)).toBe("down");
    // a daemon that stopped is started again by apply (what `up` runs when diff saw it down)
    fs.writeFileSync(again, "");
    await applyService(local, "local", no, {});
    expect(await stateOf(no)).toBe("run");
  });

  it("starts a service only once the one it requires is up and ready", async () => {
    const flag = path.join(path.dirname(root), "db-ready");
    fs.writeFileSync(flag, "");
    const db = spec({
      name: "dep-db",
      command: ["/bin/sleep", "1000"],
      readiness: { command: ["/usr/bin/test", "-e", flag], attempts: 10, intervalSeconds: 0.5 },
    });
    const app = spec({ name: "dep-app", command: ["/bin/sleep", "1000"], requires: ["dep-db"] });
    await applyService(local, "local", db, {});
    await applyService(local, "local", app, {});
    const cmdline = (s: ServiceSpec) => fs.readFileSync(`/proc/${pidOf(s)}/cmdline`, "utf8").split("\0");
    // the app has no readiness check, so apply returns once runsv started its run script: wait for the exec
    for (let i = 0; i < 40 && cmdline(app)[0] !== "/bin/sleep"; i++) await sleep(250);
    expect(cmdline(app)).toEqual(["/bin/sleep", "1000", ""]);
    // db no longer ready: the app, killed, waits in its run script instead of starting its program
    fs.rmSync(flag);
    process.kill(pidOf(app), "SIGKILL");
    await sleep(2000);
    expect(cmdline(app)[0]).toBe("/bin/bash");
    fs.writeFileSync(flag, "");
    for (let i = 0; i < 40 && cmdline(app)[0] !== "/bin/sleep"; i++) await sleep(250);
    expect(cmdline(app)).toEqual(["/bin/sleep", "1000", ""]);
  });

  it("runs a readiness command as the service's user, and names the check when it never passes", async () => {
    const ok = spec({
      name: "ready-cmd",
      command: ["/bin/sleep", "1000"],
      user: "nobody",
      group: "nogroup",
      readiness: {
        command: ["/bin/sh", "-c", 'test "$(id -un)" = nobody'],
        attempts: 10,
        intervalSeconds: 0.5,
      },
    });
    await applyService(local, "local", ok, {});
    expect(await stateOf(ok)).toBe("run");

    const never = spec({
      name: "never-ready",
      command: ["/bin/sleep", "1000"],
      readiness: { tcp: { address: "127.0.0.1", port: 1 }, attempts: 3, intervalSeconds: 0.5 },
    });
    await expect(applyService(local, "local", never, {})).rejects.toThrow(
      "service 'never-ready' on host 'local' did not become ready: waited for readiness.tcp 127.0.0.1:1 to accept " +
        "a connection after 3 attempts 0.5s apart (its state: run)",
    );
  });

  it("leaves nothing once the last service is removed", async () => {
    for (const s of [...made].reverse()) await removeService(local, "local", s);
    made.splice(0);
    expect(fs.existsSync(root)).toBe(false);
  });
});
