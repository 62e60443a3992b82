// `geartrain node check`: like oo-accept-node. Every gear inspects clean, every gear process sits in its
// cgroup, nothing in the gear cgroups belongs to someone else (but sshd's privileged process of a push's
// session, host/ssh-session.ts), and nothing is left over without a user.

import { promises as fs } from "fs";
import * as path from "path";
import { readPasswd } from "./host/accounts";
import type { NodeContext } from "./context";
import { chooseDiskMode, imagePath, quotaSupport } from "./host/disk";
import { inspectGear, listGears } from "./gear/lifecycle";
import {
  gearFrontendDrift,
  gearFrontendNameProblems,
  listGearFrontends,
  nginxTest,
} from "./frontend/operations";
import { limitsDirExists } from "./host/pam-limits";
import { LAUNCHER_TYPE, policyStatus, RELAY_ENTRY_TYPE } from "./host/selinux/policy";
import { parseContext, processContext } from "./host/selinux/label";
import { processExe } from "./host/procs";
import { isSshdPrivilegedSession } from "./host/ssh-session";
import { isolationSummary, listNetworkUids } from "./host/netfilter";
import { listMarkers } from "./gear/marker";
import { UUID_PATTERN } from "./validate";
import { exists } from "./host/fs";
import { allScheduledJobs, CRONTAB_SPOOL } from "./host/job-schedulers";
import { MAX_SCAN_ENTRIES, ownedQueues, scanOwned, SHARED_DIRS } from "./host/shared-dirs";

export interface CheckItem {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly node: {
    readonly cgroup: string;
    readonly selinux: string;
    readonly disk: string;
    readonly pamLimits: string;
    readonly frontend: string;
    readonly network: string;
    readonly gears: number;
  };
  readonly checks: readonly CheckItem[];
  readonly failures: readonly CheckItem[];
}

/**
 * How long one gear's inspect may take in `node check` (status hooks have 15 s each). A gear whose inspect
 * does not finish is reported and the check goes on: one gear can never stop the others being checked.
 */
export const INSPECT_DEADLINE_MS = 120_000;

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function checkNode(ctx: NodeContext): Promise<CheckReport> {
  const { config, cgroup } = ctx;
  const checks: CheckItem[] = [];
  const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });

  const gears = await listGears(ctx);
  const accounts = await readPasswd();
  const gearUsers = accounts.filter(
    (u) => u.gecos === config.gecos && path.dirname(u.home) === config.gearBaseDir,
  );
  const userNames = new Set(gearUsers.map((u) => u.name));
  // every account of the machine: another node's gears on it (another platform's, a test's) among them
  const accountNames = new Set(accounts.map((u) => u.name));

  // cgroup layout: an old-layout Geartrain root group still holds gears (or leftovers) until they are updated
  const legacyRoots = [];
  for (const d of cgroup.legacyRootDirs()) if (await exists(d)) legacyRoots.push(d);
  add(
    "cgroup layout",
    legacyRoots.length === 0,
    legacyRoots.length === 0
      ? `gear groups ${config.cgroup.rootName}-<uuid> directly under ${cgroup.hierarchyDirs().join(", ")}`
      : `old-layout root group ${legacyRoots.join(", ")}: run \`geartrain node gear update <uuid>\` for each gear in it`,
  );

  // node facts: what is enforced here and what is not
  let diskFact: string;
  try {
    const mode = chooseDiskMode(config);
    diskFact = mode === "unenforced" ? `unenforced (${quotaSupport(config.gearBaseDir).why})` : mode;
  } catch (e) {
    diskFact = `error: ${(e as Error).message}`;
    add("disk limit mode", false, diskFact);
  }
  const pam = (await limitsDirExists(config))
    ? `limits files in ${config.limitsDir}`
    : `unavailable (${config.limitsDir} missing)`;

  // SELinux: the gear policy module installed at this version (each gear's file and process labels are part
  // of its inspect below)
  if (ctx.selinux !== "unavailable") {
    try {
      const st = await policyStatus(config, undefined, ctx.selinux);
      add(
        "selinux policy",
        st.current,
        st.current
          ? `module ${st.module} installed (${st.hash.slice(0, 12)})`
          : st.installed && st.installedHash === st.hash && st.launcher && !st.launcher.labelled
            ? `module ${st.module} installed, but the launcher ${st.launcher.path} is ${st.launcher.context ?? "unlabelled"}, not ${LAUNCHER_TYPE} (cron could not run the node's tooling): run \`geartrain node selinux install\``
            : st.installed && st.installedHash === st.hash && st.relayEntry
              ? `module ${st.module} installed, but the forced command ${st.relayEntry.path} is ${st.relayEntry.context ?? "unlabelled"}, not ${RELAY_ENTRY_TYPE} (a git push's relay would run unconfined): run \`geartrain node selinux install\``
              : `module ${st.module} ${st.installed ? `at ${st.installedHash?.slice(0, 12) ?? "an unknown version"}, not ${st.hash.slice(0, 12)}` : "not installed"}: run \`geartrain node selinux install\``,
      );
    } catch (e) {
      add("selinux policy", false, (e as Error).message);
    }
  }

  // each gear
  for (const g of gears) {
    try {
      const st = await withDeadline(inspectGear(ctx, g.uuid), INSPECT_DEADLINE_MS, "inspect");
      add(
        `gear ${g.uuid}`,
        st.drift.length === 0,
        st.drift.length === 0
          ? "clean"
          : st.drift.map((d) => `${d.field}: expected ${d.expected}, actual ${d.actual}`).join("; "),
      );
      if (st.disk.mode !== "unenforced") add(`gear ${g.uuid} disk`, st.disk.enforced, st.disk.detail);
    } catch (e) {
      add(`gear ${g.uuid}`, false, (e as Error).message);
    }
  }

  // processes inside gear cgroups that are not the gear's
  for (const name of await cgroup.listGears()) {
    const user = gearUsers.find((u) => u.name === name);
    if (!user) {
      add(`cgroup ${name}`, false, "leftover cgroup without a gear user");
      continue;
    }
    for (const pid of await cgroup.pids(name)) {
      const status = await fs.readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
      const uid = status ? Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) : null;
      if (uid === null || uid === user.uid) continue;
      // sshd's privileged session process of a push (cgroup v2: gear-pam-attach moved it in) belongs there
      const type =
        ctx.selinux === "unavailable"
          ? undefined
          : (parseContext((await processContext(pid)) ?? "")?.type ?? null);
      if (isSshdPrivilegedSession(uid, await processExe(pid), type))
        add(
          `cgroup ${name} pid ${pid}`,
          true,
          "sshd's privileged session process of an ssh session (gear-pam-attach)",
        );
      else add(`cgroup ${name} pid ${pid}`, false, `process of uid ${uid} inside the gear's cgroup`);
    }
  }

  // leftovers: homes, markers, PAM files, disk images without a gear user
  const homes = await fs.readdir(config.gearBaseDir).catch(() => [] as string[]);
  for (const h of homes)
    if (UUID_PATTERN.test(h) && !userNames.has(h))
      add(`home ${h}`, false, "leftover home without a gear user");
  for (const m of await listMarkers(config))
    if (!userNames.has(m))
      add(`marker ${m}`, false, "marker without a gear user (partial create or destroy)");
  if (await limitsDirExists(config)) {
    const re = new RegExp(`^${config.limitsOrder}-([0-9a-f]{32})\\.conf$`);
    for (const f of await fs.readdir(config.limitsDir)) {
      const m = re.exec(f);
      // the limits directory is the machine's, shared by every node on it: a file whose account exists is
      // this node's gear's or another node's (that node's to check); only one without an account is left over
      if (m && !accountNames.has(m[1]))
        add(`limits ${f}`, false, "leftover PAM limits file without a gear user");
    }
  }
  const diskDir = path.dirname(imagePath(config, "0".repeat(32)));
  for (const f of await fs.readdir(diskDir).catch(() => [] as string[])) {
    const id = f.slice(0, 32);
    if (UUID_PATTERN.test(id) && !userNames.has(id))
      add(`disk image ${f}`, false, "leftover disk image without a gear user");
  }

  // frontend: every gear file belongs to a gear and is as rendered; nginx -t passes on the whole config
  const frontends = await listGearFrontends(ctx);
  for (const uuid of frontends) {
    if (!userNames.has(uuid)) add(`frontend ${uuid}`, false, "leftover frontend file without a gear user");
    const drift = await gearFrontendDrift(ctx, uuid);
    if (drift) add(`frontend ${uuid}`, false, drift);
  }
  await checkFrontendNames(ctx, frontends, add);
  let frontendFact = `no routes (${config.frontend.confDir} has no gear files)`;
  const confDirExists = await exists(config.frontend.confDir);
  if (confDirExists) {
    const bad = await nginxTest(config.frontend);
    add("nginx -t", bad === null, bad ?? `${config.frontend.nginxConf} passes`);
    frontendFact = `nginx, ${frontends.length} gear route file(s) in ${config.frontend.confDir}`;
  }

  // network isolation rules without a gear (inspect reports missing rules per gear)
  const gearUids = new Set(gearUsers.map((u) => u.uid));
  for (const uid of await listNetworkUids(ctx))
    if (!gearUids.has(uid)) add(`network uid ${uid}`, false, "leftover isolation rules without a gear user");

  await checkSharedLeftovers(ctx, gears, gearUsers, add);

  const failures = checks.filter((c) => !c.ok);
  return {
    ok: failures.length === 0,
    node: {
      cgroup: `${cgroup.version} (${cgroup.hierarchyDirs().join(", ")})`,
      selinux: ctx.selinux,
      disk: diskFact,
      pamLimits: pam,
      frontend: frontendFact,
      network: `isolation: ${await isolationSummary(ctx)}`,
      gears: gears.length,
    },
    checks,
    failures,
  };
}

type AddCheck = (check: string, ok: boolean, detail: string) => void;

/** Route files that hold a host name that is not their gear's: another gear's own name, or the cloud domain's. */
async function checkFrontendNames(
  ctx: NodeContext,
  frontends: readonly string[],
  add: AddCheck,
): Promise<void> {
  for (const uuid of frontends) {
    const problems = await gearFrontendNameProblems(ctx, uuid);
    if (problems) add(`frontend ${uuid}`, false, `host names not the gear's: ${problems}`);
  }
}

/**
 * What uids of the district without an account (no gear, nor anyone else) still own where every account
 * may write (/tmp, /var/tmp, /dev/shm, message queues) and in the cron/at spools: a later gear given such a
 * uid would own it.
 */
async function checkSharedLeftovers(
  ctx: NodeContext,
  gears: readonly { readonly uid: number | null }[],
  gearUsers: readonly { readonly name: string; readonly uid: number }[],
  add: AddCheck,
): Promise<void> {
  const { firstUid, maxUid } = ctx.config.district;
  const accounts = (await readPasswd()).map((u) => u.uid);
  const live = new Set([...gears.map((g) => g.uid), ...accounts]);
  const orphan = (uid: number) => uid >= firstUid && uid <= maxUid && !live.has(uid);
  const report = (what: string, e: { uid: number; kind?: string }) =>
    add(
      `leftover ${what}`,
      false,
      `${e.kind ?? "file"} of uid ${e.uid}, in the district range with no gear or account`,
    );
  for (const root of SHARED_DIRS) {
    const found = await scanOwned(root, orphan);
    for (const e of found.entries) report(e.path, e);
    if (found.truncated)
      add(
        `leftovers in ${root}`,
        false,
        `stopped after ${MAX_SCAN_ENTRIES} entries: not all of ${root} was checked`,
      );
  }
  try {
    for (const q of await ownedQueues(orphan))
      report(`mqueue ${q.path}`, { uid: q.uid, kind: "message queue" });
  } catch (e) {
    add("leftover message queues", false, (e as Error).message);
  }
  // a crontab is its user's by name: one named like a gear that is gone is left over, whoever has its uid now
  const names = new Set(gearUsers.map((u) => u.name));
  for (const job of await allScheduledJobs()) {
    const crontab = job.path.startsWith(CRONTAB_SPOOL);
    if (orphan(job.uid) || (crontab && UUID_PATTERN.test(job.name) && !names.has(job.name)))
      report(job.path, { uid: job.uid, kind: crontab ? "crontab" : "at job" });
  }
}
