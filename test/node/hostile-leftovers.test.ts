// Hostile gear, finding 7 (issue 8): what a gear leaves outside its home survived its destroy, and
// `node check` did not see it: its files in /tmp, /var/tmp and /dev/shm (the shipped PostgreSQL leaves
// segments there), its POSIX message queues and its crontab. A later gear with the reused UID owned them.
// Here a gear process makes all of these (with a link to a root-owned directory and a FIFO among them,
// which destroy must neither follow nor open); destroy removes them and nothing outside the gear changes;
// check reports such files of a district UID that has no gear. UIDs 63800-63899.

import { execFileSync, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync, chownSync } from "fs";
import * as path from "path";
import { checkNode } from "../../node/check";
import { createGear, destroyGear } from "../../node/gear/lifecycle";
import { runInGear } from "../../node/gear/run-in-gear";
import { makeTestNode, newUuid, type TestNode } from "./helpers";

jest.setTimeout(120_000);

const TAG = `gt-h6-${randomBytes(4).toString("hex")}`;
const CRONTABS = "/var/spool/cron/crontabs";

/** What the gear leaves behind (argv: tag, a root-owned directory to link to, a shared 1777 directory). */
const LITTER = String.raw`
import os, sys
tag, victim, shared = sys.argv[1:4]
def f(p, s="x\n"):
    with open(p, "w") as h: h.write(s)
f(f"/tmp/{tag}-file")
os.makedirs(f"/tmp/{tag}-dir/deep/deeper")
f(f"/tmp/{tag}-dir/deep/deeper/file")
os.symlink(victim, f"/tmp/{tag}-dir/deep/to-victim")
os.symlink(victim, f"/tmp/{tag}-link")
os.symlink(f"{victim}/keep", f"/tmp/{tag}-dir/keep")
os.mkfifo(f"/tmp/{tag}-fifo")
f(f"/var/tmp/{tag}")
f(f"/dev/shm/PostgreSQL.{os.getpid()}{tag[-4:]}")
f(f"/dev/shm/sem.{tag}")
f(f"{shared}/gear-file")
`;

/** Create the POSIX message queue argv[1] ("/name"). */
const MQ_CREATE = String.raw`
import ctypes, os, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
if libc.mq_open(sys.argv[1].encode(), os.O_CREAT | os.O_RDWR, 0o600, None) < 0:
    sys.exit("mq_open: " + os.strerror(ctypes.get_errno()))
`;

/** Whether a POSIX message queue exists (root opens it read-only). */
function mqueueExists(name: string): boolean {
  const r = spawnSync("/usr/bin/python3", [
    "-c",
    String.raw`
import ctypes, os, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
fd = libc.mq_open(sys.argv[1].encode(), os.O_RDONLY)
if fd >= 0: sys.exit(0)
sys.exit(1 if ctypes.get_errno() == 2 else 3)
`,
    `/${name}`,
  ]);
  if (r.status === 3) throw new Error(`mq_open check failed: ${r.stderr}`);
  return r.status === 0;
}

function removeMqueue(name: string): void {
  spawnSync("/usr/bin/python3", [
    "-c",
    `import ctypes, sys; ctypes.CDLL("libc.so.6").mq_unlink(sys.argv[1].encode())`,
    `/${name}`,
  ]);
}

/** Entries owned by uid in the shared temp directories, but not in this test node's own directory (it holds
 * the gear homes); find -P follows no link. */
function ownedBy(uid: number): string[] {
  const args = [
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "-xdev",
    "-path",
    node.dir,
    "-prune",
    "-o",
    "-uid",
    String(uid),
    "-print",
  ];
  const r = spawnSync("find", args, { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean).sort();
}

/** Names and types under a directory, for "unchanged" assertions. */
function fingerprint(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((n) => `${lstatSync(path.join(dir, n)).isDirectory() ? "d" : "f"} ${n}`);
}

let node: TestNode;
let victim: string;
let shared: string;

beforeAll(async () => {
  if (!existsSync("/usr/bin/python3")) throw new Error("python3 is missing. Fix: apt-get install -y python3");
  node = await makeTestNode("hleft", 63800);
  victim = path.join(node.dir, "victim");
  mkdirSync(path.join(victim, "sub"), { recursive: true });
  writeFileSync(path.join(victim, "keep"), "root's\n");
  writeFileSync(path.join(victim, "sub", "keep"), "root's\n");
  shared = `/tmp/${TAG}-shared`;
  mkdirSync(shared);
  execFileSync("chmod", ["1777", shared]);
  writeFileSync(path.join(shared, "root-file"), "root's\n");
});

afterAll(async () => {
  await node?.cleanup();
  rmSync(shared, { recursive: true, force: true });
  for (const d of ["/tmp", "/var/tmp", "/dev/shm"])
    for (const n of readdirSync(d))
      if (n.includes(TAG)) rmSync(path.join(d, n), { recursive: true, force: true });
  removeMqueue(TAG);
  removeMqueue(`${TAG}-orphan`);
});

test("destroy removes the gear's temp files, shm segments, message queues and crontab, following nothing", async () => {
  const uuid = newUuid();
  const uid = node.uid(1);
  await createGear(node.ctx, { uuid, uid, app: "litter", namespace: "dev" }, { inspect: false });
  const r = await runInGear(node.ctx, uuid, ["/usr/bin/python3", "-c", LITTER, TAG, victim, shared]);
  expect([r.code, r.stderr]).toEqual([0, ""]);
  const mq = await runInGear(node.ctx, uuid, ["/usr/bin/python3", "-c", MQ_CREATE, `/${TAG}`]);
  expect([mq.code, mq.stderr]).toEqual([0, ""]);
  // a crontab from before the cron defence (the gear can no longer make one itself)
  const tab = path.join(CRONTABS, uuid);
  writeFileSync(tab, "* * * * * /bin/true\n", { mode: 0o600 });
  execFileSync("chown", [`${uid}:crontab`, tab]);
  const victimBefore = fingerprint(victim);
  expect(ownedBy(uid).length).toBeGreaterThanOrEqual(10);
  expect(mqueueExists(TAG)).toBe(true);

  await destroyGear(node.ctx, uuid);

  expect(ownedBy(uid)).toEqual([]);
  expect(mqueueExists(TAG)).toBe(false);
  expect(existsSync(tab)).toBe(false);
  // nothing outside the gear's own entries changed: the linked directory and the shared dir's other file
  expect(fingerprint(victim)).toEqual(victimBefore);
  expect(fingerprint(shared)).toEqual(["f root-file"]);

  // a later gear with the same UID starts with nothing of the old one, and the node checks clean
  const again = newUuid();
  await createGear(node.ctx, { uuid: again, uid, app: "next", namespace: "dev" }, { inspect: false });
  expect(ownedBy(uid)).toEqual([]);
  const report = await checkNode(node.ctx);
  expect(report.failures).toEqual([]);
  await destroyGear(node.ctx, again);
});

test("node check reports files, shm segments, queues and crontabs of a district UID without a gear", async () => {
  const orphan = node.uid(60);
  const fake = newUuid();
  const shm = `/dev/shm/PostgreSQL.${TAG}`;
  const dir = `/tmp/${TAG}-orphan`;
  const tab = path.join(CRONTABS, fake);
  try {
    writeFileSync(shm, "segment");
    chownSync(shm, orphan, orphan);
    mkdirSync(dir);
    writeFileSync(path.join(dir, "inside"), "x");
    chownSync(dir, orphan, orphan);
    writeFileSync(`/var/tmp/${TAG}-orphan`, "x");
    chownSync(`/var/tmp/${TAG}-orphan`, orphan, orphan);
    writeFileSync(tab, "* * * * * /bin/true\n", { mode: 0o600 });
    chownSync(tab, orphan, 0);
    const mq = spawnSync("/usr/bin/python3", ["-c", MQ_CREATE, `/${TAG}-orphan`], {
      uid: orphan,
      gid: orphan,
      encoding: "utf8",
    });
    expect([mq.status, mq.stderr]).toEqual([0, ""]);

    const started = Date.now();
    const report = await checkNode(node.ctx);
    expect(Date.now() - started).toBeLessThan(30_000);
    const failed = report.failures.map((f) => `${f.check}: ${f.detail}`);
    for (const p of [shm, dir, `/var/tmp/${TAG}-orphan`, tab, `mqueue /${TAG}-orphan`])
      expect(failed).toContainEqual(expect.stringContaining(p));
    expect(failed.join("\n")).toContain(`uid ${orphan}`);
    expect(failed.join("\n")).not.toContain(`${dir}/inside`); // the directory is reported, not each file in it
  } finally {
    rmSync(shm, { force: true });
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/var/tmp/${TAG}-orphan`, { force: true });
    rmSync(tab, { force: true });
    removeMqueue(`${TAG}-orphan`);
  }
  expect((await checkNode(node.ctx)).failures).toEqual([]);
});
