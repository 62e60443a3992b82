// SELinux MCS label from a UID, OpenShift's exact algorithm (reference §2.1, selinux_context.rb) with its
// node.conf defaults, which Geartrain fixes: set size 1024, group size 2, UID offset 0, MLS level s0.
// Pairs {i<j} of categories 0..1023 in lexicographic order; UID 1 gets the first pair.

export const MCS_SET_SIZE = 1024;
export const MCS_LABEL_COUNT = (MCS_SET_SIZE * (MCS_SET_SIZE - 1)) / 2; // 523,776

/** Closed form (selinux_context.rb, group size 2). Integer-exact for the whole range. */
export function mcsCategories(uid: number): [number, number] {
  if (!Number.isSafeInteger(uid) || uid < 1 || uid > MCS_LABEL_COUNT) {
    throw new RangeError(`uid ${uid} has no MCS label (valid: 1..${MCS_LABEL_COUNT})`);
  }
  const S = MCS_SET_SIZE;
  const b = 2 * S - 1;
  const c = 2 * uid - 2;
  let i = Math.floor((b - Math.sqrt(b * b - 4 * c)) / 2);
  // Guard against floating point at pair boundaries: i is the largest tier whose start ≤ uid.
  const start = (k: number): number => (k * (2 * S - k - 1)) / 2 + 1; // uid of pair (k, k+1)
  while (i > 0 && start(i) > uid) i--;
  while (i + 1 < S - 1 && start(i + 1) <= uid) i++;
  const j = uid - ((2 * S - i - 1) * i) / 2 + i;
  return [i, j];
}

export function mcsLabel(uid: number): string {
  const [i, j] = mcsCategories(uid);
  return `s0:c${i},c${j}`;
}
