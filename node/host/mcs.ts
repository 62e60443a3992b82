// SELinux MCS label from a UID, OpenShift's exact algorithm (reference §2.1, selinux_context.rb).
// Pairs {i<j} of categories 0..setSize-1 in lexicographic order; UID offset+1 gets the first pair.

export const MCS_SET_SIZE = 1024;
export const MCS_LABEL_COUNT = (MCS_SET_SIZE * (MCS_SET_SIZE - 1)) / 2; // 523,776

export interface McsOptions {
  readonly setSize?: number;
  readonly uidOffset?: number;
  readonly mlsNum?: number;
}

function checkUid(uid: number, offset: number, setSize: number): number {
  const ouid = uid - offset;
  const max = (setSize * (setSize - 1)) / 2;
  if (!Number.isSafeInteger(uid) || ouid < 1 || ouid > max) {
    throw new RangeError(`uid ${uid} has no MCS label (valid: ${offset + 1}..${offset + max})`);
  }
  return ouid;
}

/** Closed form (selinux_context.rb, group size 2). Integer-exact for the whole range. */
export function mcsCategories(uid: number, opts: McsOptions = {}): [number, number] {
  const S = opts.setSize ?? MCS_SET_SIZE;
  const ouid = checkUid(uid, opts.uidOffset ?? 0, S);
  const b = 2 * S - 1;
  const c = 2 * ouid - 2;
  let i = Math.floor((b - Math.sqrt(b * b - 4 * c)) / 2);
  // Guard against floating point at pair boundaries: i is the largest tier whose start ≤ ouid.
  const start = (k: number): number => (k * (2 * S - k - 1)) / 2 + 1; // ouid of pair (k, k+1)
  while (i > 0 && start(i) > ouid) i--;
  while (i + 1 < S - 1 && start(i + 1) <= ouid) i++;
  const j = ouid - ((2 * S - i - 1) * i) / 2 + i;
  return [i, j];
}

/** Legacy loop form (oo-get-mcs-level, pam_openshift). Kept to cross-check the closed form. */
export function mcsCategoriesLoop(uid: number, opts: McsOptions = {}): [number, number] {
  const S = opts.setSize ?? MCS_SET_SIZE;
  checkUid(uid, opts.uidOffset ?? 0, S);
  const setsize = S - 1;
  let tier = setsize;
  let ord = uid - (opts.uidOffset ?? 0);
  while (ord > tier) {
    ord -= tier;
    tier -= 1;
  }
  tier = setsize - tier;
  return [tier, ord + tier];
}

export function mcsLabel(uid: number, opts: McsOptions = {}): string {
  const [i, j] = mcsCategories(uid, opts);
  return `s${opts.mlsNum ?? 0}:c${i},c${j}`;
}

/** Full process context for gear commands (unconfined_u:system_r:openshift_t:<label> in OpenShift). */
export function gearProcessContext(uid: number): string {
  return `unconfined_u:system_r:openshift_t:${mcsLabel(uid)}`;
}
