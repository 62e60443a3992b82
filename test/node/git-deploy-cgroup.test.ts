// How the SSH session of a gear gets into the gear's cgroup, on the real host (as root), without a web
// cartridge (a gear with only its repository; push deploys run the checkout and the action hooks):
//   - delegation (cgroup v1): the forced command joins by itself; with the delegation undone it refuses the
//     session (fails closed) and names the fix;
//   - the PAM session hook (the cgroup v2 mechanism, which works on v1 too): sshd run under its own PAM
//     service name (/etc/pam.d/<unique name>, removed afterwards) with `pam_exec ... gear-pam-attach` puts
//     the session into the cgroup before the forced command starts, with delegation undone.

import { execFile } from "child_process";
import { randomBytes } from "crypto";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  promises as fs,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import * as path from "path";
import { pamAttach } from "../../node/deploy/pam";
import { initAppRepository } from "../../node/deploy/repo";
import { addSshKey } from "../../node/deploy/ssh-keys";
import { createGear } from "../../node/gear/lifecycle";
import { keygen, startTestSshd, type TestSshd } from "../helpers/sshd";
import { makeTestNode, newUuid, REPO, type TestNode } from "./helpers";

jest.setTimeout(180_000);

const SSHD_CONFIG = [
  "AuthorizedKeysFile .ssh/authorized_keys",
  "StrictModes yes",
  "PermitUserEnvironment no",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "UsePAM yes",
  "PermitRootLogin no",
  "PrintMotd no",
];

let node: TestNode;
let tmp: string;
let key: string;
let uuid: string;
let uid: number;
let home: string;
let plain: TestSshd;
let withPam: TestSshd;
let pamService: string;

function run(
  argv: string[],
  cwd: string,
  input = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      {
        cwd,
        timeout: 120_000,
        env: {
          PATH: "/usr/bin:/bin",
          HOME: tmp,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_AUTHOR_NAME: "T",
          GIT_AUTHOR_EMAIL: "t@example.com",
          GIT_COMMITTER_NAME: "T",
          GIT_COMMITTER_EMAIL: "t@example.com",
          GIT_SSH_COMMAND: `ssh -i ${key} -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${path.join(tmp, "known_hosts")}`,
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 255) : 0, stdout, stderr }),
    );
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input);
  });
}

const sshTo = (s: TestSshd, cmd: string) =>
  run(
    [
      "ssh",
      "-i",
      key,
      "-p",
      String(s.port),
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${path.join(tmp, "known_hosts")}`,
      `${uuid}@127.0.0.1`,
      cmd,
    ],
    tmp,
  );

/** Undo (owner root) or redo (owner the gear) the delegation of the gear's cgroup.procs files. */
function delegation(on: boolean): void {
  for (const f of node.ctx.cgroup.procsFiles(uuid)) chownSync(f, on ? uid : 0, on ? uid : 0);
}

beforeAll(async () => {
  node = await makeTestNode("gitcg", 62400);
  tmp = mkdtempSync("/tmp/gt-test-gitcg-client-");
  key = path.join(tmp, "id");
  keygen(key);
  uuid = newUuid();
  uid = node.uid(1);
  home = path.join(node.config.gearBaseDir, uuid);
  await createGear(
    node.ctx,
    { uuid, uid, app: "cgapp", namespace: "dev", profile: "small" },
    { inspect: false },
  );
  const template = path.join(tmp, "template");
  await fs.mkdir(template, { mode: 0o755 });
  await fs.writeFile(path.join(template, "index.html"), "hello\n", { mode: 0o644 });
  await fs.chmod(tmp, 0o755); // the gear reads the template (initAppRepository runs git as the gear)
  await initAppRepository(node.ctx, uuid, template);
  await fs.chmod(tmp, 0o700);
  await addSshKey(
    node.ctx,
    uuid,
    { key: readFileSync(`${key}.pub`, "utf8"), name: "t" },
    { configPath: node.configPath },
  );
  plain = await startTestSshd({ config: SSHD_CONFIG });
  pamService = `gt-test-sshd-${randomBytes(4).toString("hex")}`;
  writeFileSync(
    `/etc/pam.d/${pamService}`,
    `# geartrain test (test/node/git-deploy-cgroup.test.ts); removed when it ends\n@include sshd\n` +
      `session required pam_exec.so quiet ${process.execPath} ${REPO}/bin/geartrain node gear-pam-attach --config ${node.configPath}\n`,
  );
  withPam = await startTestSshd({ config: SSHD_CONFIG, programName: pamService });
  await fs.writeFile(path.join(tmp, "known_hosts"), `${plain.knownHostsLine}\n${withPam.knownHostsLine}\n`);
});

afterAll(async () => {
  if (pamService) rmSync(`/etc/pam.d/${pamService}`, { force: true });
  await plain?.stop();
  await withPam?.stop();
  await node?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("delegation: the gear's cgroup.procs files belong to it, the limit files to root", () => {
  for (const f of node.ctx.cgroup.procsFiles(uuid)) expect(statSync(f).uid).toBe(uid);
  for (const d of node.ctx.cgroup.gearDirs(uuid)) {
    const limit = ["memory.limit_in_bytes", "pids.max", "memory.max"]
      .map((n) => path.join(d, n))
      .find(existsSync);
    if (limit) expect(statSync(limit).uid).toBe(0);
  }
});

test("a push through the delegated path runs its hooks in the gear's cgroup", async () => {
  const work = path.join(tmp, "w1");
  const url = `ssh://${uuid}@127.0.0.1:${plain.port}/~/git/cgapp.git/`;
  expect((await run(["git", "clone", "-q", url, work], tmp)).code).toBe(0);
  await fs.mkdir(path.join(work, ".geartrain/action_hooks"), { recursive: true });
  await fs.writeFile(
    path.join(work, ".geartrain/action_hooks/build"),
    '#!/bin/sh\nfor c in memory pids cpu; do echo "in $(grep ":$c:" /proc/self/cgroup)"; done\n',
    { mode: 0o755 },
  );
  expect((await run(["git", "add", "-A"], work)).code).toBe(0);
  expect((await run(["git", "commit", "-qm", "hook"], work)).code).toBe(0);
  const r = await run(["git", "push", "origin", "master"], work);
  expect({ code: r.code, err: r.stderr }).toMatchObject({ code: 0 });
  for (const c of ["memory", "pids", "cpu"])
    expect(r.stderr).toMatch(new RegExp(`remote: in \\d+:${c}:/gt-test-gitcg-${uuid}\\s`));
  expect(r.stderr).toContain("remote: geartrain: no web cartridge in this gear");
  expect(readFileSync(path.join(home, "app-root/runtime/repo/index.html"), "utf8")).toBe("hello\n");
});

test("without delegation and without the PAM hook the forced command refuses (fails closed)", async () => {
  delegation(false);
  try {
    const r = await sshTo(plain, "git-upload-pack 'git/cgapp.git'");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("geartrain: ERROR: cannot run inside the gear's cgroup");
    expect(r.stderr).toContain(`geartrain node gear update ${uuid}`);
  } finally {
    delegation(true);
  }
});

test("the PAM session hook puts the session into the gear's cgroup (the cgroup v2 mechanism)", async () => {
  delegation(false);
  try {
    const work = path.join(tmp, "w2");
    const url = `ssh://${uuid}@127.0.0.1:${withPam.port}/~/git/cgapp.git/`;
    const c = await run(["git", "clone", "-q", url, work], tmp);
    expect({ code: c.code, err: c.stderr, log: c.code ? withPam.log() : "" }).toMatchObject({ code: 0 });
    await fs.writeFile(path.join(work, "index.html"), "via pam\n");
    expect((await run(["git", "commit", "-qam", "pam"], work)).code).toBe(0);
    const r = await run(["git", "push", "origin", "master"], work);
    expect({ code: r.code, err: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stderr).toMatch(new RegExp(`remote: in \\d+:memory:/gt-test-gitcg-${uuid}\\s`));
    expect(readFileSync(path.join(home, "app-root/runtime/repo/index.html"), "utf8")).toBe("via pam\n");
  } finally {
    delegation(true);
  }
});

test("gear-pam-attach leaves other accounts and other PAM phases alone", async () => {
  const log: string[] = [];
  const me = process.pid;
  expect(
    await pamAttach(node.configPath, { PAM_TYPE: "close_session", PAM_USER: uuid }, me, (m) => log.push(m)),
  ).toBe(0);
  expect(
    await pamAttach(node.configPath, { PAM_TYPE: "open_session", PAM_USER: "root" }, me, (m) => log.push(m)),
  ).toBe(0);
  expect(
    await pamAttach(node.configPath, { PAM_TYPE: "open_session", PAM_USER: "f".repeat(32) }, me, (m) =>
      log.push(m),
    ),
  ).toBe(0);
  expect(await node.ctx.cgroup.pidInGear(me, uuid)).toBe(false);
  expect(log).toEqual([]);
});
