// The rule of docs/conventions.md "Root and gear files": root touches a gear's tree only through
// node/host/gear-fs.ts. This test reads every module of node/ and fails on a raw path-based file call (rm,
// unlink, mkdir, readFile, writeFile, rename, symlink, chown, chmod, open, … and their Sync forms) outside
// that module, unless the module never sees a gear path (NO_GEAR_PATHS), runs as the gear itself (AS_GEAR), or
// the call is one of the few EXCEPTIONS below, each with why it is safe and how many calls it covers.

import { readdirSync, readFileSync } from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "../../..");

/** The one safe module. */
const SAFE = ["node/host/gear-fs.ts"];

/** Code that runs as the gear user (started through runInGear or as its SSH forced command): gear rights only. */
const AS_GEAR: Record<string, string> = {
  "node/deploy/self.ts": "the gear side of deploys",
  "node/deploy/lifecycle.ts": "the build lifecycle of a push, run as the gear",
  "node/deploy/gear-hook.ts": "git hooks and `gear-hook deploy|list`, run as the gear",
  "node/deploy/shell.ts": "the SSH forced command, run as the gear",
  "node/deploy/command.ts": "parses the forced command, run as the gear",
  "node/deploy/deploy-lock.ts":
    "the gear's deploy lock, taken by the forced command and gear-hook as the gear",
};

/** Modules whose raw calls never name a path in a gear's home (a line that names one still fails). */
const NO_GEAR_PATHS: Record<string, string> = {
  "node/config.ts": "the node config file",
  "node/check.ts": "/proc",
  "node/host/accounts.ts": "/etc/passwd, /etc/group",
  "node/host/cgroups/detect.ts": "cgroupfs, /proc",
  "node/host/cgroups/driver.ts": "cgroupfs (root's tree; the gear can write only delegated cgroup.procs)",
  "node/host/disk.ts": "disk images in the state dir, /proc",
  "node/host/fs.ts": "root's own trees (the repository; a cartridge copy while it is still root-only)",
  "node/host/lock.ts": "lock files in the state dir",
  "node/host/pam-limits.ts": "the PAM limits dir",
  "node/host/procs.ts": "/proc, /dev/mqueue of a gear that is killed",
  "node/host/selinux/label.ts":
    "selinuxfs and /proc/<pid>/attr of processes (labels are read with find/stat)",
  "node/host/selinux/policy.ts":
    "the module sources in the install, its private temp build dir, the policy store and <stateDir>/selinux",
  "node/host/job-schedulers.ts":
    "/etc/cron.{allow,deny}, /etc/at.{allow,deny} and the root-only cron and at spools",
  "node/host/shared-dirs.ts":
    "/tmp, /var/tmp, /dev/shm walked through descriptors (own no-follow walk), removal as the gear; mqueue (no dirs, no links)",
  "node/gear/marker.ts": "markers in the state dir",
  "node/cartridge/cartridge-processes.ts": "/proc",
  "node/cartridge/repository.ts": "the node's cartridge repository (root-only)",
  "node/frontend/nginx.ts": "nginx config and pid files, /proc",
  "node/frontend/operations.ts": "the frontend's config dir",
  "node/frontend/render.ts": "the shipped templates",
  "node/quickstart/guestbook.ts": "a root-owned 0755 staging dir in /tmp the gear only reads",
};

/** Words by which a line names a gear's home or something in it. */
const GEAR_PATH_HINT = /\bhome\b|\.home\b|gearHome|cartPath|gearBaseDir/;

interface Exception {
  readonly file: string;
  readonly line: RegExp;
  /** how many raw calls it covers: a new one next to them fails until it is reviewed */
  readonly count: number;
  readonly why: string;
}

const EXCEPTIONS: readonly Exception[] = [
  {
    file: "node/gear/home.ts",
    line: /(symlinkSync|mkdirSync|writeFileSync|chownSync|chmodSync)\((e\.content!, )?abs/,
    count: 5,
    why: "layoutFresh: the home was just made and the account did not exist, so no gear process can race",
  },
  {
    file: "node/cartridge/hooks.ts",
    line: /fs\.(readFileSync|rmSync|writeFileSync|renameSync|unlinkSync)\((f|tmp)\b/,
    count: 5,
    why: "the text of the template renderer, a program that runs as the gear (runHook)",
  },
  {
    file: "node/gear/facets/disk.ts",
    line: /fs\.mkdir\(home, /,
    count: 1,
    why: "the home itself, in the root-owned gear base dir (nothing of the gear can be on that path)",
  },
  {
    file: "node/host/disk.ts",
    line: /fs\.mkdir\(home, /,
    count: 1,
    why: "the mount point (the home itself) in the root-owned gear base dir",
  },
  {
    file: "node/host/disk.ts",
    line: /fs\.rm\(path\.join\(home, "lost\+found"\)/,
    count: 1,
    why: "lost+found of a just-mounted image: root-only 0700, made by mkfs/e2fsck; no gear process can reach in",
  },
  {
    file: "node/gear/marker.ts",
    line: /fs\.mkdir\(d, .*config\.gearBaseDir|config\.gearBaseDir.*fs\.mkdir\(d/,
    count: 1,
    why: "the base dir of all homes, root's",
  },
];

export const RAW_CALL =
  /\bfs\.(rm|rmdir|unlink|readFile|mkdir|writeFile|appendFile|rename|symlink|copyFile|cp|chown|chmod|truncate|open)(Sync)?\s*\(|\b(rmSync|rmdirSync|unlinkSync|readFileSync|mkdirSync|writeFileSync|appendFileSync|renameSync|symlinkSync|copyFileSync|cpSync|chownSync|chmodSync|truncateSync|openSync)\s*\(/;

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** Raw calls in the source text of `file` (comment lines skipped), with the rule's verdict. */
export function scan(
  file: string,
  source: string,
): { violations: Finding[]; excepted: Map<Exception, number> } {
  const violations: Finding[] = [];
  const excepted = new Map<Exception, number>();
  if (SAFE.includes(file) || file in AS_GEAR) return { violations, excepted };
  source.split("\n").forEach((text, i) => {
    const t = text.trim();
    if (t.startsWith("//") || t.startsWith("*") || t.startsWith("/*") || !RAW_CALL.test(text)) return;
    if (file in NO_GEAR_PATHS && !GEAR_PATH_HINT.test(text)) return;
    const ex = EXCEPTIONS.find((e) => e.file === file && e.line.test(text));
    if (ex) excepted.set(ex, (excepted.get(ex) ?? 0) + 1);
    else violations.push({ file, line: i + 1, text: t });
  });
  return { violations, excepted };
}

function nodeSources(): string[] {
  return (readdirSync(path.join(REPO, "node"), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `node/${f}`)
    .sort();
}

test("no raw file call on a gear path in node/ outside node/host/gear-fs.ts", () => {
  const violations: Finding[] = [];
  const counts = new Map<Exception, number>();
  for (const f of nodeSources()) {
    const r = scan(f, readFileSync(path.join(REPO, f), "utf8"));
    violations.push(...r.violations);
    for (const [e, n] of r.excepted) counts.set(e, (counts.get(e) ?? 0) + n);
  }
  // each failure names the call; the fix: use GearDir / removeGearTree / readNodeFile / writeRootFile
  expect(violations.map((v) => `${v.file}:${v.line}: ${v.text}`)).toEqual([]);
  // every exception still covers exactly the calls it was reviewed for
  expect(EXCEPTIONS.map((e) => `${e.file} ${e.line}: ${counts.get(e) ?? 0}`)).toEqual(
    EXCEPTIONS.map((e) => `${e.file} ${e.line}: ${e.count}`),
  );
});

test("every listed module exists (a moved file must be listed again, with its reason)", () => {
  const files = new Set(nodeSources());
  const listed = [
    ...SAFE,
    ...Object.keys(AS_GEAR),
    ...Object.keys(NO_GEAR_PATHS),
    ...EXCEPTIONS.map((e) => e.file),
  ];
  expect(listed.filter((f) => !files.has(f))).toEqual([]);
});

test("the scan catches the calls of the findings and passes the safe forms", () => {
  const gearModule = "node/cartridge/operations.ts";
  const bad = [
    "  await fs.rm(cartPath, { recursive: true, force: true, maxRetries: 3 });",
    "      if (!st) await fs.mkdir(abs, { mode: 0o700 });",
    '      const content = await fs.readFile(abs, "utf8");',
    "  rmSync(path.join(g.home, name), { recursive: true });",
    "  const text = readFileSync(path.join(home, 'git/app.git/config'));",
  ];
  for (const line of bad) expect(scan(gearModule, line).violations).toHaveLength(1);
  // a module that never sees a gear path still fails when a line names one
  expect(scan("node/frontend/operations.ts", "await fs.rm(path.join(g.home, x));").violations).toHaveLength(
    1,
  );
  expect(scan("node/frontend/operations.ts", "await fs.rm(file, { force: true });").violations).toEqual([]);
  const good = [
    "  await removeGearTree(cartPath, { uid: g.uid });",
    "  const r = await parent.readFile(name, { maxBytes: MAX_EXACT_BYTES, owners: [want.uid] });",
    "  // fs.rm(path) would follow a swapped link",
  ];
  for (const line of good) expect(scan(gearModule, line).violations).toEqual([]);
});
