// git push deploys on the real host (as root): a private sshd on 127.0.0.1 serving gear accounts with the
// node's authorized_keys (forced command geartrain node gear-shell), real git clients pushing over SSH, the
// nodejs cartridge serving through a private nginx. Covers: a pushed change is served when the push returns;
// a failing build (and a version that does not start) rejects the push with the error on the pusher's
// terminal while the old version keeps serving; the forced command refuses everything but git on the gear's
// own repository and runs git inside the gear's cgroup; keep-N pruning; root's deploy/deployments commands.

import { execFile } from "child_process";
import {
  existsSync,
  mkdtempSync,
  promises as fs,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import * as path from "path";
import { loopbackAddress } from "../../node/host/addresses";
import { installCartridge } from "../../node";
import { inspectGear, updateGear } from "../../node/gear/lifecycle";
import { gearDeployments } from "../../node/deploy/operations";
import { configureDeploys, initAppRepository } from "../../node/deploy/repo";
import { addSshKey, listSshKeys, removeSshKey } from "../../node/deploy/ssh-keys";
import { runInGear } from "../../node/gear/run-in-gear";
import { httpGet, makeCartridgeNode, waitFor, type CartridgeTestNode } from "./cartridge-helpers";
import { cli, REPO } from "./helpers";
import { keygen, startTestSshd, type TestSshd, GEAR_GIT_SSHD_CONFIG } from "../helpers/sshd";

jest.setTimeout(300_000);

let node: CartridgeTestNode;
let sshd: TestSshd;
let tmp: string;
let key: string;
let env: NodeJS.ProcessEnv;

interface Gear {
  uuid: string;
  uid: number;
  home: string;
  app: string;
}
let gear: Gear;
let other: Gear;

/** The forced command runs the built CLI: refuse to test a stale dist/. */
function requireFreshDist(): void {
  const built = path.join(REPO, "dist/node/deploy/shell.js");
  if (!existsSync(built)) throw new Error("dist/ is missing. Fix: npm run build");
  const t = statSync(built).mtimeMs;
  for (const f of readdirSync(path.join(REPO, "node"), { recursive: true }) as string[]) {
    if (f.endsWith(".ts") && statSync(path.join(REPO, "node", f)).mtimeMs > t)
      throw new Error(`dist/ is older than node/${f}. Fix: npm run build`);
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[], opts: { cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { cwd: opts.cwd ?? tmp, env, timeout: 240_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 255) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.on("error", () => undefined); // a command that does not read its input
    child.stdin?.end(opts.input ?? "");
  });
}

async function ok(argv: string[], cwd?: string): Promise<string> {
  const r = await run(argv, { cwd });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

function url(g: Gear): string {
  return `ssh://${g.uuid}@127.0.0.1:${sshd.port}/~/git/${g.app}.git/`;
}

/** ssh to the gear account with `command` as the requested remote command. */
function ssh(g: Gear, command: string[]): Promise<Run> {
  return run([
    "ssh",
    "-i",
    key,
    "-p",
    String(sshd.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${path.join(tmp, "known_hosts")}`,
    `${g.uuid}@127.0.0.1`,
    ...command,
  ]);
}

async function served(g: Gear): Promise<string> {
  const r = await httpGet("127.0.0.1", node.nginx.port, "/", `${g.app}-dev.example.com`);
  return `${r.status} ${r.body}`;
}

const server = (text: string) => `const http = require("http");
http
  .createServer((req, res) => res.end(${JSON.stringify(text)} + "\\n"))
  .listen(Number(process.env.GEARTRAIN_NODEJS_PORT), process.env.GEARTRAIN_NODEJS_IP);
`;

async function commit(work: string, files: Record<string, string | null>, message: string): Promise<string> {
  for (const [f, content] of Object.entries(files)) {
    const p = path.join(work, f);
    if (content === null) await fs.rm(p, { force: true });
    else {
      await fs.mkdir(path.dirname(p), { recursive: true });
      await fs.writeFile(p, content, { mode: f.includes("action_hooks/") ? 0o755 : 0o644 });
    }
  }
  await ok(["git", "add", "-A"], work);
  await ok(["git", "commit", "-q", "-m", message], work);
  return ok(["git", "rev-parse", "HEAD"], work);
}

function push(work: string, ...args: string[]): Promise<Run> {
  return run(["git", "push", ...args], { cwd: work });
}

async function makeGear(i: number, app: string): Promise<Gear> {
  const g = await node.gear(i, app);
  return { ...g, app };
}

beforeAll(async () => {
  requireFreshDist();
  node = await makeCartridgeNode("gitdeploy", 62100);
  tmp = mkdtempSync("/tmp/gt-test-gitdeploy-client-");
  key = path.join(tmp, "id_ed25519");
  keygen(key, "ed25519", "alice@laptop");
  sshd = await startTestSshd({ config: GEAR_GIT_SSHD_CONFIG });
  await fs.writeFile(path.join(tmp, "known_hosts"), sshd.knownHostsLine + "\n");
  env = {
    PATH: "/usr/bin:/bin",
    HOME: tmp,
    LANG: "C.UTF-8",
    GIT_SSH_COMMAND: `ssh -i ${key} -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${path.join(tmp, "known_hosts")}`,
    GIT_AUTHOR_NAME: "Alice",
    GIT_AUTHOR_EMAIL: "alice@example.com",
    GIT_COMMITTER_NAME: "Alice",
    GIT_COMMITTER_EMAIL: "alice@example.com",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  gear = await makeGear(1, "pushapp");
  other = await makeGear(2, "otherapp");
  for (const g of [gear, other]) {
    await installCartridge(node.ctx, g.uuid, { name: "nodejs" }, { frontend: node.frontend });
    const init = await initAppRepository(node.ctx, g.uuid, path.join(g.home, "nodejs/template"));
    expect(init).toMatchObject({ created: true, branch: "master" });
  }
  await addSshKey(
    node.ctx,
    gear.uuid,
    { key: readFileSync(`${key}.pub`, "utf8") },
    { configPath: node.configPath },
  );
});

afterAll(async () => {
  await sshd?.stop();
  await node?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("initAppRepository is idempotent; authorized_keys is root:gear 0440 with the forced command", async () => {
  const again = await initAppRepository(node.ctx, gear.uuid, path.join(gear.home, "nodejs/template"));
  expect(again.created).toBe(false);
  const file = path.join(gear.home, ".ssh/authorized_keys");
  const st = statSync(file);
  expect([st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([0, gear.uid, "440"]);
  const dir = statSync(path.join(gear.home, ".ssh"));
  expect([dir.uid, dir.gid, (dir.mode & 0o777).toString(8)]).toEqual([0, gear.uid, "750"]);
  const line = readFileSync(file, "utf8");
  expect(line).toMatch(
    new RegExp(
      `^command="${REPO}/bin/gear-shell ${process.execPath} --config ${node.configPath}",restrict,no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty ssh-ed25519 AAAA\\S+ GEARTRAIN-${gear.uuid}-alice@laptop\\n$`,
    ),
  );
  // a forced command the gear could not run is refused when the key is added, with the fix
  const hidden = mkdtempSync("/tmp/gt-test-gitdeploy-hidden-"); // 0700
  writeFileSync(path.join(hidden, "node.json"), "{}");
  await expect(
    addSshKey(
      node.ctx,
      gear.uuid,
      { key: readFileSync(`${key}.pub`, "utf8"), name: "x" },
      {
        configPath: path.join(hidden, "node.json"),
      },
    ),
  ).rejects.toThrow(
    `gear users cannot reach ${hidden}/node.json: ${hidden} is not o+x (chmod o+x ${hidden})`,
  );
  rmSync(hidden, { recursive: true, force: true });
  const listed = await listSshKeys(node.ctx, gear.uuid, { configPath: node.configPath });
  expect(listed.keys).toEqual([
    { name: "alice@laptop", type: "ssh-ed25519", fingerprint: expect.stringMatching(/^SHA256:/) },
  ]);
  // hooks from the home layout: root-owned, not writable by the gear
  for (const h of ["pre-receive", "post-receive"]) {
    const hs = statSync(path.join(gear.home, `git/${gear.app}.git/hooks/${h}`));
    expect([hs.uid, (hs.mode & 0o777).toString(8)]).toEqual([0, "755"]);
  }
});

test("git push of a change is served when the push returns; build runs as the gear in its cgroup", async () => {
  expect(await served(gear)).toMatch(/^200 .*Welcome to pushapp/s);
  const work = path.join(tmp, "pushapp");
  const clone = await run(["git", "clone", url(gear), work]);
  expect(clone.code).toBe(0);
  expect(readFileSync(path.join(work, "server.js"), "utf8")).toContain("Welcome to");
  const sha = await commit(
    work,
    {
      "server.js": server("version 2"),
      ".geartrain/action_hooks/build":
        '#!/bin/sh\necho "hook uid=$(id -u) umask=$(umask)"\necho "hook $(grep memory /proc/self/cgroup)"\necho "hook repo=$GEARTRAIN_REPO_DIR"\n',
    },
    "version 2",
  );
  const t0 = Date.now();
  const r = await push(work, "origin", "master");
  const took = Date.now() - t0;
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  // progress reached the pusher as remote: lines
  expect(r.stderr).toMatch(
    new RegExp(`remote: geartrain: deploying ${sha.slice(0, 12)} \\(refs/heads/master\\)`),
  );
  expect(r.stderr).toContain("remote: geartrain: nodejs: build");
  expect(r.stderr).toMatch(new RegExp(`remote: hook uid=${gear.uid} umask=0077`));
  expect(r.stderr).toMatch(new RegExp(`remote: hook \\d+:memory:/gt-test-gitdeploy-${gear.uuid}`));
  expect(r.stderr).toMatch(
    new RegExp(`remote: hook repo=${gear.home}/app-deployments/\\d{8}-\\d{9}-${sha.slice(0, 12)}/repo/`),
  );
  expect(r.stderr).toMatch(/remote: geartrain: deployed .*the new version is serving/);
  // served as soon as the push returned: through nginx and on the private address
  expect(await served(gear)).toBe("200 version 2\n");
  const direct = await httpGet(loopbackAddress(gear.uid, 1), 8080);
  expect(direct.body).toBe("version 2\n");
  // runtime/repo is a link to the active deployment; keep 1: the starter app was pruned
  const d = await gearDeployments(node.ctx, gear.uuid, { configPath: node.configPath });
  expect(d.active).toEqual({ id: expect.stringMatching(/-[0-9a-f]{12}$/), sha });
  expect(d.keep).toBe(1);
  expect(d.deployments.map((x) => x.id)).toEqual([d.active!.id]);
  expect(await fs.readlink(path.join(gear.home, "app-root/runtime/repo"))).toBe(
    `../../app-deployments/${d.active!.id}/repo`,
  );
  // the gear is in its desired state (the link is part of the layout, the hooks are in place)
  const st = await inspectGear(node.ctx, gear.uuid);
  expect(st.drift).toEqual([]);
  // a repair run (gear update) keeps the link and the app
  await updateGear(node.ctx, { uuid: gear.uuid });
  expect(await fs.readlink(path.join(gear.home, "app-root/runtime/repo"))).toBe(
    `../../app-deployments/${d.active!.id}/repo`,
  );
  expect(await served(gear)).toBe("200 version 2\n");
  console.log(`git push to new version served: ${took} ms`);
});

test("a failing build rejects the push, shows the error and leaves the old version serving", async () => {
  const work = path.join(tmp, "pushapp");
  const pidFile = path.join(gear.home, "nodejs/run/node.pid");
  const pidBefore = readFileSync(pidFile, "utf8").trim();
  const before = await ok(["git", "rev-parse", "HEAD"], work);
  await commit(
    work,
    {
      "server.js": server("version 3"),
      ".geartrain/action_hooks/build":
        '#!/bin/sh\necho "running the tests"\necho "boom: 1 test failed" >&2\nexit 1\n',
    },
    "version 3, broken build",
  );
  const r = await push(work, "origin", "master");
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("remote: boom: 1 test failed");
  expect(r.stderr).toContain(
    "remote: geartrain: ERROR: action hook .geartrain/action_hooks/build failed (exit 1)",
  );
  expect(r.stderr).toMatch(
    /remote: geartrain: deploy of [0-9a-f]{12} failed; the previous deployment \S+ \([0-9a-f]{12}\) is still serving/,
  );
  expect(r.stderr).toMatch(/\[remote rejected\] master -> master \(pre-receive hook declined\)/);
  // the old version never stopped, the branch still points at it, the failed build left nothing
  expect(await served(gear)).toBe("200 version 2\n");
  expect(readFileSync(pidFile, "utf8").trim()).toBe(pidBefore);
  const remote = await ok(["git", "ls-remote", "origin", "refs/heads/master"], work);
  expect(remote.split(/\s+/)[0]).toBe(before);
  const d = await gearDeployments(node.ctx, gear.uuid, { configPath: node.configPath });
  expect(d.deployments).toHaveLength(1);
  expect(d.active!.sha).toBe(before);
  // a version that does not start: switched back, the old one restarted, push rejected
  await commit(
    work,
    { "server.js": 'throw new Error("cannot start");\n', ".geartrain/action_hooks/build": null },
    "version 4, crashes at start",
  );
  const r2 = await push(work, "origin", "master");
  expect(r2.code).not.toBe(0);
  expect(r2.stderr).toContain("remote: geartrain: ERROR: cartridge nodejs: bin/control restart failed");
  expect(r2.stderr).toMatch(/remote: geartrain: switching back to \S+/);
  expect(await served(gear)).toBe("200 version 2\n");
  expect((await gearDeployments(node.ctx, gear.uuid, { configPath: node.configPath })).active!.sha).toBe(
    before,
  );
  // fix it: the next push of the branch (with both commits) deploys
  const fixed = await commit(work, { "server.js": server("version 5") }, "version 5");
  const r3 = await push(work, "origin", "master");
  expect(r3.code).toBe(0);
  expect(await served(gear)).toBe("200 version 5\n");
  expect((await gearDeployments(node.ctx, gear.uuid, { configPath: node.configPath })).active!.sha).toBe(
    fixed,
  );
});

test("keep N deployments, prune older ones; root redeploys an older commit from the repo", async () => {
  const work = path.join(tmp, "pushapp");
  const cfg = await configureDeploys(node.ctx, gear.uuid, { keep: 2 });
  expect(cfg).toMatchObject({ keep: 2, branch: "master" });
  const shas: string[] = [];
  for (const v of [6, 7, 8]) {
    shas.push(await commit(work, { "server.js": server(`version ${v}`) }, `version ${v}`));
    expect((await push(work, "origin", "master")).code).toBe(0);
  }
  let d = await gearDeployments(node.ctx, gear.uuid, { configPath: node.configPath });
  expect(d.deployments.map((x) => x.sha)).toEqual([shas[1], shas[2]]);
  expect(d.active!.sha).toBe(shas[2]);
  // root: redeploy version 6 (no longer deployed) from the repository, through the CLI
  const r = await cli(node, ["gear", "deploy", gear.uuid, "--ref", shas[0]]);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  expect(r.json).toMatchObject({ uuid: gear.uuid, sha: shas[0], restarted: true });
  expect(r.stderr).toContain("geartrain: nodejs: restart");
  expect(await served(gear)).toBe("200 version 6\n");
  d = await gearDeployments(node.ctx, gear.uuid, { configPath: node.configPath });
  expect(d.deployments.map((x) => x.sha)).toEqual([shas[2], shas[0]]);
  // keep 1 again: the next deploy leaves only itself
  await configureDeploys(node.ctx, gear.uuid, { keep: 1 });
  const r2 = await cli(node, ["gear", "deploy", gear.uuid]);
  expect(r2.code).toBe(0);
  expect(await served(gear)).toBe("200 version 8\n");
  const list = await cli(node, ["gear", "deployments", gear.uuid]);
  expect(list.json).toMatchObject({ active: { sha: shas[2] }, keep: 1 });
  expect((list.json as { deployments: unknown[] }).deployments).toHaveLength(1);
  // other branches are accepted but not deployed
  await ok(["git", "checkout", "-q", "-b", "feature"], work);
  await commit(work, { "server.js": server("feature") }, "feature");
  const rf = await push(work, "origin", "feature");
  expect(rf.code).toBe(0);
  expect(rf.stderr).toContain(
    "remote: geartrain: refs/heads/feature is not the deployment branch (master): accepted, not deployed",
  );
  expect(await served(gear)).toBe("200 version 8\n");
  await ok(["git", "checkout", "-q", "master"], work);
});

test("the forced command refuses everything but git on the gear's own repository", async () => {
  const refusedWith = async (command: string[], pattern: RegExp) => {
    const r = await ssh(gear, command);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: "" });
    expect(r.stderr).toMatch(pattern);
  };
  await refusedWith(["id"], /geartrain: refused "id": only git push and git fetch\/clone/);
  await refusedWith([], /geartrain: interactive logins are not allowed/);
  await refusedWith(["git-receive-pack '../x.git'"], /refused repository "\.\.\/x\.git": path traversal/);
  await refusedWith([`git-receive-pack 'git/${gear.app}.git/../../.ssh'`], /path traversal/);
  await refusedWith(
    [`git-upload-pack '${other.home}/git/${other.app}.git'`],
    /this account only serves ~\/git\/pushapp\.git/,
  );
  await refusedWith([`git-upload-pack '~/git/${other.app}.git'`], /this account only serves/);
  await refusedWith(
    [`git-upload-pack 'git/${gear.app}.git'; id`],
    /expected exactly one quoted repository path/,
  );
  await refusedWith(
    [`git-upload-pack 'git/${gear.app}.git' 'x'`],
    /expected exactly one quoted repository path/,
  );
  await refusedWith(["git-upload-archive 'git/pushapp.git'"], /only git push and git fetch/);
  // the gear's own repository, in each form git clients send, works
  for (const form of [`git/${gear.app}.git`, `~/git/${gear.app}.git/`, `${gear.home}/git/${gear.app}.git`]) {
    const r = await ssh(gear, [`git-upload-pack '${form}'`]);
    expect(r.stdout).toMatch(/^[0-9a-f]{4}[0-9a-f]{40} HEAD/);
  }
  // the key opens no other gear: the other gear has no keys at all
  const r = await run(["git", "ls-remote", url(other)]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
  // no port forwarding, no pty
  const fwd = await run([
    "ssh",
    "-i",
    key,
    "-p",
    String(sshd.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${path.join(tmp, "known_hosts")}`,
    "-o",
    "ExitOnForwardFailure=yes",
    "-L",
    "127.0.0.1:0:127.0.0.1:22",
    "-N",
    `${gear.uuid}@127.0.0.1`,
  ]);
  expect(fwd.code).not.toBe(0);
});

test("ssh-key remove revokes access; the layout hooks refuse a push that bypasses the forced command", async () => {
  const removed = await removeSshKey(
    node.ctx,
    gear.uuid,
    { name: "alice@laptop" },
    { configPath: node.configPath },
  );
  expect(removed).toMatchObject({ changed: true, keys: [] });
  expect(existsSync(path.join(gear.home, ".ssh/authorized_keys"))).toBe(false);
  const r = await run(["git", "ls-remote", url(gear)]);
  expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
  // the repository hooks hand over only to the forced command's deploy: run directly, they refuse
  const hook = await runInGear(
    node.ctx,
    gear.uuid,
    [path.join(gear.home, `git/${gear.app}.git/hooks/pre-receive`)],
    {
      input: `${"0".repeat(40)} ${"1".repeat(40)} refs/heads/master\n`,
    },
  );
  expect(hook.code).toBe(1);
  expect(hook.stderr).toContain("geartrain: push through the gear's SSH access to deploy");
  // re-adding restores it
  await addSshKey(
    node.ctx,
    gear.uuid,
    { key: readFileSync(`${key}.pub`, "utf8"), name: "alice" },
    { configPath: node.configPath },
  );
  await waitFor("access again", async () => (await run(["git", "ls-remote", url(gear)])).code === 0);
});
