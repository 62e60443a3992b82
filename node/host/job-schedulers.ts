// The system's job schedulers (cron, at) and gear accounts. A job the cron or at daemon runs for a user
// starts in the daemon's cgroup, outside every gear limit, so gears get no way to them: each gear is listed
// in /etc/cron.deny (Debian's crontab refuses listed users every operation) and in /etc/at.deny when at is
// installed, and a crontab or at job a gear has anyway (made before this defence) is removed, because the
// daemons run what is in their spools whatever the deny files say. The node's own cron runner (root's
// /etc/cron.d entry, node/cartridge/cron.ts) is not affected: it starts gear jobs through runInGear.
//
// The spools are root's (crontabs 1730 root:crontab, atjobs 1770 daemon:daemon): a gear cannot write
// there, so entries are removed by name. The deny files are shared with the host's other users: only the
// gears' own lines (their uuids) are added and removed, under one host-wide lock.

import { promises as fs } from "fs";
import * as path from "path";
import { readText } from "./fs";
import { withFileLock } from "./lock";

export const CRON_ALLOW = "/etc/cron.allow";
export const CRON_DENY = "/etc/cron.deny";
export const AT_ALLOW = "/etc/at.allow";
export const AT_DENY = "/etc/at.deny";
/** Debian cron's per-user crontabs, one file per user name */
export const CRONTAB_SPOOL = "/var/spool/cron/crontabs";
/** Debian at's job files, owned by the job's user */
export const AT_SPOOL = "/var/spool/cron/atjobs";
/** host-wide (not per node config): every node config on the host edits the same deny files */
const LOCK = "/run/geartrain-job-schedulers.lock";

/** `text` (a one-user-a-line file, or null: none) with `user`'s line present or absent. Pure. */
export function withUserLine(text: string | null, user: string, present: boolean): string {
  const lines = (text ?? "").split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
  const others = lines.filter((l) => l.trim() !== user);
  const out = present ? [...others, user] : others;
  return out.length ? `${out.join("\n")}\n` : "";
}

export function listsUser(text: string | null, user: string): boolean {
  return (text ?? "").split("\n").some((l) => l.trim() === user);
}

/** What must change in one scheduler's allow/deny files so `user` may not use it (null: nothing). Pure. */
export function denyChanges(
  files: { readonly allow: string | null; readonly deny: string | null },
  user: string,
  opts: { readonly createDeny: boolean },
): { allow?: string; deny?: string } {
  const out: { allow?: string; deny?: string } = {};
  // an allow file, when there is one, is all the scheduler reads: the gear must not be in it
  if (files.allow !== null && listsUser(files.allow, user))
    out.allow = withUserLine(files.allow, user, false);
  // the deny line too (it decides as soon as the allow file goes); a missing at.deny stays missing, because
  // with neither file only root may use at, and a new deny file would let everyone else in
  if ((files.deny !== null || opts.createDeny) && !listsUser(files.deny, user))
    out.deny = withUserLine(files.deny, user, true);
  return out;
}

/**
 * Replace a file in /etc atomically, keeping its owner and mode; a new one is root:root 0644 (crontab reads
 * it as the calling user: an unreadable deny file locks every user out). A deny file left empty is removed
 * (it denies no one, as no file does); an allow file never is (an empty one allows no one, none allows all).
 */
async function replaceEtcFile(file: string, content: string, kind: "allow" | "deny"): Promise<void> {
  const st = await fs.stat(file).catch(() => null);
  if (content === "" && kind === "deny") {
    await fs.rm(file, { force: true });
    return;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.geartrain-tmp`);
  await fs.rm(tmp, { force: true });
  const h = await fs.open(tmp, "wx", 0o600);
  try {
    await h.writeFile(content);
    await h.chown(st?.uid ?? 0, st?.gid ?? 0);
    await h.chmod(st ? st.mode & 0o7777 : 0o644);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}

const SCHEDULERS = [
  { name: "cron", allow: CRON_ALLOW, deny: CRON_DENY, createDeny: true },
  { name: "at", allow: AT_ALLOW, deny: AT_DENY, createDeny: false },
] as const;

/** List `user` in the deny files (and take it out of any allow file). Idempotent. */
export async function denySchedulers(user: string): Promise<void> {
  await withFileLock(LOCK, async () => {
    for (const s of SCHEDULERS) {
      const change = denyChanges({ allow: await readText(s.allow), deny: await readText(s.deny) }, user, s);
      if (change.allow !== undefined) await replaceEtcFile(s.allow, change.allow, "allow");
      if (change.deny !== undefined) await replaceEtcFile(s.deny, change.deny, "deny");
    }
  });
}

/** Take `user`'s lines out of the deny files (the account is gone). Idempotent. */
export async function undenySchedulers(user: string): Promise<void> {
  await withFileLock(LOCK, async () => {
    for (const s of SCHEDULERS) {
      const text = await readText(s.deny);
      if (text !== null && listsUser(text, user))
        await replaceEtcFile(s.deny, withUserLine(text, user, false), "deny");
    }
  });
}

/** The user's crontab and the at jobs of its uid (paths), as they are in the spools. */
export async function scheduledJobs(user: string, uid: number): Promise<string[]> {
  const out: string[] = [];
  const tab = path.join(CRONTAB_SPOOL, user);
  if (
    await fs.lstat(tab).then(
      () => true,
      () => false,
    )
  )
    out.push(tab);
  for (const name of await fs.readdir(AT_SPOOL).catch(() => [] as string[])) {
    const st = await fs.lstat(path.join(AT_SPOOL, name)).catch(() => null);
    if (st?.isFile() && st.uid === uid && !name.startsWith(".")) out.push(path.join(AT_SPOOL, name));
  }
  return out.sort();
}

/** Remove the user's crontab and its uid's at jobs (the daemons notice the spool change themselves). */
export async function removeScheduledJobs(user: string, uid: number): Promise<string[]> {
  const jobs = await scheduledJobs(user, uid);
  for (const j of jobs) await fs.rm(j, { force: true });
  return jobs;
}

/** How `user` could still reach a scheduler: deny lines missing, allow lines present (for inspect). */
export async function schedulerAccessProblems(user: string): Promise<{ field: string; actual: string }[]> {
  const out: { field: string; actual: string }[] = [];
  for (const s of SCHEDULERS) {
    const change = denyChanges({ allow: await readText(s.allow), deny: await readText(s.deny) }, user, s);
    if (change.allow !== undefined)
      out.push({ field: `${s.name}.allow`, actual: `${s.allow} lists ${user}` });
    if (change.deny !== undefined)
      out.push({ field: `${s.name}.deny`, actual: `${s.deny} does not list ${user}` });
  }
  return out;
}

/** Every crontab and at job in the spools with its owner's uid, for the node check's leftovers. */
export async function allScheduledJobs(): Promise<{ path: string; uid: number; name: string }[]> {
  const out: { path: string; uid: number; name: string }[] = [];
  for (const dir of [CRONTAB_SPOOL, AT_SPOOL]) {
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith(".")) continue;
      const st = await fs.lstat(path.join(dir, name)).catch(() => null);
      if (st?.isFile()) out.push({ path: path.join(dir, name), uid: st.uid, name });
    }
  }
  return out;
}
