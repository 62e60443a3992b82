// The real-kernel tier: the node layer on Debian 12 with SELinux enforcing (Debian's policy plus the gear
// module) and cgroup v2 only, in a qemu guest (software emulation). beforeAll stages the built project,
// builds or reuses the cached image (test/vm/build-image.sh, ~/.cache/geartrain/vm/), boots the guest once
// (run-vm.sh, under /tmp/geartrain-heavy.lock), and reads back the guest's results; each guest check is one
// test here. A failing check shows its detail and the tail of the guest's console.
// Needs root and the packages of test/vm/setup.sh (which scripts/test-all.sh runs).

import { execFileSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, cpSync, mkdirSync } from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "../..");
const HERE = __dirname;

/** The guest's checks, in the order guest-checks.js runs them. */
const CHECKS = [
  "environment: SELinux enforcing, cgroup v2 only, gear module installed",
  "gear create/inspect idempotent: home at the gear's file context, no drift",
  "runInGear (the hook path) runs as the gear in the gear domain at its level",
  "MCS: gear B cannot read gear A's 0777 file (AVC denied), A can",
  "MCS: a process at gear B's level cannot signal or ptrace gear A's processes, even as A's uid",
  "binding: a gear binds only its own loopback block (SELinux node_bind), root binds anywhere",
  "cartridge static installed and served under enforcing; hook and app processes in the gear domain",
  "cron path: Debian's cron daemon runs the cron.d line; cron-run (geartrain_node_t) runs the gear's job in the gear domain",
  "git push over sshd on the node's git port (not 22, labelled ssh_port_t by the module): the forced command's gear-domain stage, git, its hooks and the build run in the gear domain at the gear's level; from the session B cannot read A's 0777 file (AVC), A cannot read what the session wrote; the relay stage in its own domain, which the gear cannot signal (AVC); inspect and the node check clean mid-push",
  "label drift by hand: inspect reports it, node check fails, update repairs the files (a process in the wrong domain stays drift until killed), check clean",
  "cgroup v2: memory.max OOM-kills only the gear's process",
  "cgroup v2: pids.max stops a fork bomb",
  "CPU contract: a busy gear gets the whole CPU alone and 20% ± 5 against a default-weight process",
  "gear destroy idempotent; nothing left",
];

interface GuestResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
}

let results: GuestResult[] = [];
let consoleTail = "";
let work = "";

function requirePrereqs(): void {
  if (process.getuid?.() !== 0) throw new Error("the VM tier must run as root (debootstrap, setfiles, mkfs)");
  const missing = [
    "qemu-system-x86_64",
    "debootstrap",
    "setfiles",
    "mkfs.ext4",
    "debugfs",
    "flock",
    "make",
  ].filter((t) => !["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(path.join(d, t))));
  if (missing.length)
    throw new Error(`missing tools: ${missing.join(", ")}. Fix: bash test/vm/setup.sh (as root)`);
  if (!existsSync("/usr/share/selinux/devel/Makefile"))
    throw new Error("selinux-policy-dev is missing. Fix: bash test/vm/setup.sh (as root)");
}

function say(line: string): void {
  process.stderr.write(`vm tier: ${line}\n`);
}

beforeAll(() => {
  requirePrereqs();
  const t0 = Date.now();
  work = mkdtempSync("/tmp/gt-vm-");
  const data = path.join(work, "data");
  const out = path.join(work, "out");
  mkdirSync(path.join(data, "vm"), { recursive: true });
  execFileSync("bash", [path.join(HERE, "stage-project.sh"), REPO, path.join(data, "project")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tStaged = Date.now();
  const image = execFileSync("bash", [path.join(HERE, "build-image.sh"), path.join(data, "project")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 40 * 60_000,
  })
    .trim()
    .split("\n")
    .pop()!;
  const tImage = Date.now();
  const built = Number(readFileSync(path.join(image, "build-seconds"), "utf8"));
  say(
    `image ${path.basename(image)} (${tImage - tStaged > 60_000 ? `cold build: ${built} s` : `cached; its cold build took ${built} s`})`,
  );
  for (const f of ["guest-checks.js", "run.sh"]) cpSync(path.join(HERE, f), path.join(data, "vm", f));
  try {
    execFileSync("bash", [path.join(HERE, "run-vm.sh"), image, data, out, "900"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
  } catch {
    // reported per check below, with the console
  }
  const tRun = Date.now();
  const consoleLog = existsSync(path.join(out, "console.log"))
    ? readFileSync(path.join(out, "console.log"), "utf8")
    : "";
  consoleTail = consoleLog.split("\n").slice(-60).join("\n");
  try {
    results = JSON.parse(readFileSync(path.join(out, "results.json"), "utf8"));
  } catch {
    results = [];
  }
  // waiting for the heavy lock (other suites of the machine) is not the tier's own time
  const lockAt = existsSync(path.join(out, "lock-acquired"))
    ? Number(readFileSync(path.join(out, "lock-acquired"), "utf8")) * 1000
    : tImage;
  const lockWait = Math.max(0, lockAt - tImage);
  const init = /geartrain-vm: init at ([0-9.]+) s/.exec(consoleLog)?.[1];
  const off = /geartrain-vm: power off at ([0-9.]+) s/.exec(consoleLog)?.[1];
  say(
    `stage ${((tStaged - t0) / 1000).toFixed(0)} s, waiting for the heavy lock ${(lockWait / 1000).toFixed(0)} s, guest ${((tRun - tImage - lockWait) / 1000).toFixed(0)} s (kernel to init ${init ?? "?"} s, init to power off ${off && init ? (Number(off) - Number(init)).toFixed(0) : "?"} s), tier ${((tRun - t0 - lockWait) / 1000).toFixed(0)} s without the lock wait`,
  );
  for (const r of results)
    say(`${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.ms} ms)${r.ok ? `: ${r.detail.slice(0, 300)}` : ""}`);
  // the processes of the git push session, with their contexts, as the guest saw them (in full)
  for (const l of consoleLog.split("\n"))
    if (l.startsWith("geartrain-vm: the push session:") || l.startsWith("geartrain-vm: push AVC:"))
      say(l.slice(14));
}, 45 * 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test.each(CHECKS)("%s", (name) => {
  const r = results.find((x) => x.name === name);
  const runner = results.find((x) => x.name === "guest runner");
  if (!r)
    throw new Error(
      `the guest did not run this check${runner ? ` (runner: ${runner.detail})` : ""}\n--- guest console (tail) ---\n${consoleTail}`,
    );
  if (!r.ok) throw new Error(`${r.detail}\n--- guest console (tail) ---\n${consoleTail}`);
});

test("the guest ran no check this file does not know", () => {
  expect(results.map((r) => r.name).filter((n) => !CHECKS.includes(n))).toEqual([]);
});
