// SELinux: detect, label gear files with the MCS range (chcon -l, no dereference), read labels back.
// Where SELinux is absent the gear state says selinux "unavailable"; nothing pretends to be labelled.

import { promises as fs } from "fs";
import { fieldDrift } from "../drift";
import { run, runOk } from "./exec";
import type { Drift, SelinuxStatus } from "../types";

export async function selinuxStatus(root = "/sys/fs/selinux"): Promise<SelinuxStatus> {
  const v = await fs.readFile(`${root}/enforce`, "utf8").catch(() => null);
  if (v === null) return "unavailable";
  return v.trim() === "1" ? "enforcing" : "permissive";
}

/** Set the MCS range on the home tree (chcon -R -h -l <label>). */
export async function labelTree(home: string, label: string): Promise<void> {
  await runOk(["chcon", "-R", "-h", "-l", label, "--", home]);
}

/** Read the full context of a path (`stat -c %C`); null when unavailable. */
export async function readLabel(p: string): Promise<string | null> {
  const r = await run(["stat", "-c", "%C", "--", p]);
  if (r.code !== 0) return null;
  const ctx = r.stdout.trim();
  return ctx === "?" || ctx === "" ? null : ctx;
}

/** The MCS range part of a context "user:role:type:s0:c1,c2" → "s0:c1,c2". */
export function rangeOf(context: string): string {
  return context.split(":").slice(3).join(":");
}

/** The MCS range applied to `p` (null: no label) and how it differs from `want`. */
export async function readLabelDrift(
  p: string,
  want: string,
): Promise<{ applied: string | null; drift: Drift[] }> {
  const c = await readLabel(p);
  const applied = c ? rangeOf(c) : null;
  return { applied, drift: fieldDrift("selinux.label", want, applied) };
}
