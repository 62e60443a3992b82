// Gear accounts: group (gid = uid, name = uuid) and user (name = uuid, GECOS marker) in the local files.

import { promises as fs } from "fs";
import { ConflictError } from "../../common/errors";
import { fieldDrift } from "../drift";
import type { Drift } from "../types";
import { CommandError, runOk } from "./exec";
import { withMutex } from "./lock";

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly gecos: string;
  readonly home: string;
  readonly shell: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), gecos: f[4], home: f[5], shell: f[6] });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
    out.push({ name: f[0], gid: Number(f[2]) });
  }
  return out;
}

export async function readPasswd(): Promise<PasswdEntry[]> {
  return parsePasswd(await fs.readFile("/etc/passwd", "utf8"));
}

export async function readGroups(): Promise<GroupEntry[]> {
  return parseGroup(await fs.readFile("/etc/group", "utf8"));
}

export interface AccountSpec {
  readonly name: string;
  readonly uid: number;
  readonly home: string;
  readonly shell: string;
  readonly gecos: string;
}

/**
 * How an account differs from the one wanted: the user (present, uid, primary gid = uid, home, shell) and
 * its group's gid. Pure.
 */
export function accountDrift(
  want: Pick<AccountSpec, "uid" | "home" | "shell">,
  user: PasswdEntry | null,
  group: GroupEntry | null,
): Drift[] {
  const drift = fieldDrift("user", "present", user ? "present" : null);
  if (user) {
    drift.push(...fieldDrift("user.uid", want.uid, user.uid));
    drift.push(...fieldDrift("user.gid", want.uid, user.gid));
    drift.push(...fieldDrift("user.home", want.home, user.home));
    drift.push(...fieldDrift("user.shell", want.shell, user.shell));
  }
  drift.push(...fieldDrift("group.gid", want.uid, group?.gid ?? null));
  return drift;
}

/** Account database edits are serialised in-process (see lock.ts). */
const ACCOUNTS = "accounts";

/** Create the group unless it exists exactly. A clash on name or gid is a conflict (OpenShift exit 129). */
export async function ensureGroup(name: string, gid: number): Promise<void> {
  await withMutex(ACCOUNTS, async () => {
    const groups = await readGroups();
    const byName = groups.find((g) => g.name === name);
    if (byName) {
      if (byName.gid !== gid)
        throw new ConflictError(`group ${name} exists with gid ${byName.gid}, wanted ${gid}`);
      return;
    }
    const byGid = groups.find((g) => g.gid === gid);
    if (byGid) throw new ConflictError(`gid ${gid} is taken by group ${byGid.name}`);
    await runOk(["groupadd", "-g", String(gid), name]);
  });
}

/** Create the user, or bring an existing gear user back to spec (usermod). */
export async function ensureUser(spec: AccountSpec): Promise<void> {
  await withMutex(ACCOUNTS, async () => {
    const users = await readPasswd();
    const byName = users.find((u) => u.name === spec.name);
    const byUid = users.find((u) => u.uid === spec.uid);
    if (byUid && byUid.name !== spec.name)
      throw new ConflictError(`uid ${spec.uid} is taken by user ${byUid.name}`);
    if (!byName) {
      await runOk([
        "useradd",
        "--badname",
        "-M", // we make the home ourselves (exact owner and mode)
        "-N",
        "-l", // no lastlog entry (sparse file blow-up with high UIDs)
        "-u",
        String(spec.uid),
        "-g",
        String(spec.uid),
        "-d",
        spec.home,
        "-s",
        spec.shell,
        "-c",
        spec.gecos,
        "-K",
        "PASS_MAX_DAYS=-1",
        "-K",
        "PASS_MIN_DAYS=-1",
        "-K",
        "PASS_WARN_AGE=-1",
        spec.name,
      ]);
      return;
    }
    if (byName.gecos !== spec.gecos) {
      throw new ConflictError(
        `user ${spec.name} exists but is not a gear (GECOS ${JSON.stringify(byName.gecos)})`,
      );
    }
    if (byName.uid !== spec.uid) throw new ConflictError(`user ${spec.name} exists with uid ${byName.uid}`);
    if (byName.gid !== spec.uid || byName.home !== spec.home || byName.shell !== spec.shell) {
      await runOk(["usermod", "-g", String(spec.uid), "-d", spec.home, "-s", spec.shell, spec.name]);
    }
  });
}

/** Remove user and group; both already gone is success. */
export async function removeAccount(name: string): Promise<void> {
  await withMutex(ACCOUNTS, async () => {
    const users = await readPasswd();
    if (users.some((u) => u.name === name)) {
      try {
        // 6 = no such user (raced), 12 = home could not be removed (we never ask it to)
        await runOk(["userdel", "-f", name], [0, 6, 12]);
      } catch (e) {
        if (e instanceof CommandError && e.result.code === 8) {
          throw new Error(`userdel ${name}: user still logged in / has processes`);
        }
        throw e;
      }
    }
    const groups = await readGroups();
    if (groups.some((g) => g.name === name)) await runOk(["groupdel", name], [0, 6]);
  });
}
