import { ValidationError } from "../../../common/errors";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  childName,
  DATA_DIRECTORY_SCRIPT,
  fileEnvironment,
  parseFacts,
  REMOVE_DATA_DIRECTORY_SCRIPT,
  strictScript,
  validateConnection,
  validateFile,
  validateHostName,
} from "../../../components/host/resolve";

describe("host validation", () => {
  it.each(["a;rm -rf /", "Node1", "-x", "", "a".repeat(64), "x_y"])("rejects host name %j", (name) => {
    expect(() => validateHostName(name)).toThrow(/must match/);
  });

  it("accepts lowercase names with digits and dashes", () => {
    expect(() => validateHostName("node-1")).not.toThrow();
  });

  it("requires a private key for ssh and says how to set it", () => {
    const ssh = { type: "ssh" as const, address: "127.0.0.1", hostKey: "ssh-ed25519 AAAA" };
    expect(() => validateConnection("n1", ssh, false)).toThrow(
      /pulumi config set --secret geartrain:sshPrivateKey/,
    );
    expect(() => validateConnection("n1", { ...ssh, port: 70000 }, true)).toThrow(/1\.\.65535/);
    expect(() => validateConnection("n1", ssh, true)).not.toThrow();
    expect(() => validateConnection("local", { type: "local" }, false)).not.toThrow();
  });

  it.each([0, -1, 65536, 22.5])("rejects ssh port %p, naming the field", (port) => {
    const ssh = { type: "ssh" as const, address: "127.0.0.1", hostKey: "ssh-ed25519 AAAA", port };
    expect(() => validateConnection("n1", ssh, true)).toThrow(
      `host 'n1': ssh port (connection.port) must be an integer in 1..65535, got ${port}`,
    );
  });

  it.each([1, 22, 65535])("accepts ssh port %p", (port) => {
    const ssh = { type: "ssh" as const, address: "127.0.0.1", hostKey: "ssh-ed25519 AAAA", port };
    expect(() => validateConnection("n1", ssh, true)).not.toThrow();
  });

  it.each(["/etc/..", "/..", "/etc/geartrain/../../root/.ssh/authorized_keys"])(
    "rejects file path %j with a '..' segment, naming the field",
    (filePath) => {
      expect(() => validateFile({ path: filePath, content: "" })).toThrow(
        `file path '${filePath}' must be absolute with no '..' segment`,
      );
    },
  );

  it.each(["/etc/geartrain/x", "/etc/..hidden", "/srv/a..b/c.conf", "/etc/./x"])(
    "accepts file path %j",
    (filePath) => {
      expect(() => validateFile({ path: filePath, content: "" })).not.toThrow();
    },
  );

  it.each([
    [{ path: "relative/file", content: "" }, /absolute/],
    [{ path: "/etc/$(reboot)", content: "" }, /absolute/],
    [{ path: "/etc/../root/x", content: "" }, /absolute/],
    [{ path: "/etc/x", content: "", mode: "rwx" }, /octal/],
    [{ path: "/etc/x", content: "", owner: "root;id" }, /user:group/],
  ])("rejects file %j", (file, message) => {
    expect(() => validateFile(file)).toThrow(message);
  });
});

describe("host argument errors", () => {
  // field-naming ValidationErrors from the pure module (the component turns them into ResourceErrors)
  it.each([
    ["name", () => validateHostName("Node1")],
    ["privateKey", () => validateConnection("n1", { type: "ssh", address: "h", hostKey: "k" }, false)],
    [
      "connection.port",
      () => validateConnection("n1", { type: "ssh", address: "h", hostKey: "k", port: 0 }, true),
    ],
    ["path", () => validateFile({ path: "rel", content: "" })],
    ["mode", () => validateFile({ path: "/etc/x", content: "", mode: "9" })],
    ["owner", () => validateFile({ path: "/etc/x", content: "", owner: "a b" })],
    ["role", () => childName("node1", "Bad Role")],
  ])("%s", (field, call) => {
    let thrown: unknown;
    try {
      call();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(thrown).toMatchObject({
      field,
      kind: "invalid",
      message: expect.stringMatching(`^invalid ${field}: `),
    });
  });
});

describe("host scripts", () => {
  it("names children after their parent", () => {
    expect(childName("node1", "facts")).toBe("node1-facts");
    expect(() => childName("node1", "Bad Role")).toThrow();
  });

  it("always runs scripts with strict error handling", () => {
    expect(strictScript("echo hi")).toBe("set -euo pipefail\necho hi");
  });

  it("passes file parameters as environment with defaults", () => {
    expect(fileEnvironment({ path: "/etc/geartrain/x", content: "c" })).toEqual({
      GT_PATH: "/etc/geartrain/x",
      GT_MODE: "0644",
      GT_OWNER: "root:root",
    });
  });

  it("parses the facts line and rejects garbage", () => {
    expect(
      parseFacts('{"kernel":"Linux 6.1","os":"debian 12","cgroup":"v1","selinux":"unavailable"}\n'),
    ).toEqual({
      kernel: "Linux 6.1",
      os: "debian 12",
      cgroup: "v1",
      selinux: "unavailable",
      systemd: false, // facts recorded before the systemd fact: not PID 1
    });
    expect(
      parseFacts('{"kernel":"L","os":"d","cgroup":"v2","selinux":"unavailable","systemd":true}').systemd,
    ).toBe(true);
    expect(() => parseFacts('{"cgroup":"v3"}')).toThrow(/unexpected/);
  });
});

describe("the data directory scripts (bash, for real)", () => {
  const run = (script: string, env: Record<string, string>) =>
    spawnSync("/bin/bash", ["--noprofile", "--norc", "-c", strictScript(script)], {
      env: { PATH: "/usr/bin:/bin", ...env },
      encoding: "utf8",
    });

  it("make the directory when missing and say so; remove only one they made, and only when empty", () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "gt-unit-datadir-"));
    try {
      const dir = path.join(top, "data");
      const made = run(DATA_DIRECTORY_SCRIPT, { GT_DIR: dir });
      expect([made.status, made.stdout]).toEqual([0, "created\n"]);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o755);
      expect(run(DATA_DIRECTORY_SCRIPT, { GT_DIR: dir }).stdout).toBe("existing\n");
      // one it found is kept
      run(REMOVE_DATA_DIRECTORY_SCRIPT, { GT_DIR: dir, PULUMI_COMMAND_STDOUT: "existing\n" });
      expect(fs.existsSync(dir)).toBe(true);
      // one it made, with something left in it, is kept with a warning
      fs.writeFileSync(path.join(dir, "left"), "");
      const kept = run(REMOVE_DATA_DIRECTORY_SCRIPT, { GT_DIR: dir, PULUMI_COMMAND_STDOUT: "created" });
      expect([kept.status, kept.stderr]).toEqual([0, `geartrain: ${dir} is not empty: kept\n`]);
      fs.rmSync(path.join(dir, "left"));
      expect(
        run(REMOVE_DATA_DIRECTORY_SCRIPT, { GT_DIR: dir, PULUMI_COMMAND_STDOUT: "created" }).status,
      ).toBe(0);
      expect(fs.existsSync(dir)).toBe(false);
      // and a second delete of one already gone succeeds
      expect(
        run(REMOVE_DATA_DIRECTORY_SCRIPT, { GT_DIR: dir, PULUMI_COMMAND_STDOUT: "created" }).status,
      ).toBe(0);
    } finally {
      fs.rmSync(top, { recursive: true, force: true });
    }
  });
});
