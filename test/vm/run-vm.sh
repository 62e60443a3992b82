#!/usr/bin/env bash
# Boots the test guest once: qemu under software emulation (TCG: KVM is not usable here), one vCPU, the
# cached root image read-only (snapshot=on: writes go to a throwaway overlay), a data disk built from <data
# dir> (the staged project, run.sh and the checks) that the guest writes its results to, and no network
# device at all. The console goes to <out dir>/console.log; results.json is read back from the data disk.
#   run-vm.sh <image dir> <data dir> <out dir> [timeout seconds]
# Holds /tmp/geartrain-heavy.lock while the guest runs; never leaves qemu behind (timeout, then SIGKILL).
set -euo pipefail
IMG=$1 DATA=$2 OUT=$3 LIMIT=${4:-900}
for t in qemu-system-x86_64 mkfs.ext4 debugfs flock; do
  command -v "$t" >/dev/null || { echo "run-vm: $t is missing: run \`bash test/vm/setup.sh\`" >&2; exit 1; }
done
mkdir -p "$OUT"
# label the data disk's files from here (usr_t, as the guest's /opt; mkfs.ext4 -d copies the xattrs): the
# guest mounts it with its labels, so the node can relabel its own launcher there (policy.ts)
python3 - "$DATA" <<'PY'
import os, sys
ctx = b"system_u:object_r:usr_t:s0\0"
for d, dirs, files in os.walk(sys.argv[1]):
    for p in [d] + [os.path.join(d, n) for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]]:
        os.setxattr(p, "security.selinux", ctx, follow_symlinks=False)
PY
SIZE=$(($(du -sm "$DATA" | cut -f1) * 2 + 64))
truncate -s "${SIZE}M" "$OUT/data.img"
mkfs.ext4 -q -F -L gtdata -d "$DATA" "$OUT/data.img"
: >"$OUT/console.log"
START=$(date +%s.%N)
set +e
# (the time the lock was taken goes to lock-acquired: the test reports the wait apart from the guest's time)
flock /tmp/geartrain-heavy.lock bash -c 'date +%s.%N >"$0/lock-acquired"; exec "$@"' "$OUT" \
  timeout --kill-after=10 "$LIMIT" nice -n 10 qemu-system-x86_64 -accel tcg -smp 1 -m 768 \
  -nographic -no-reboot -monitor none -nic none \
  -kernel "$IMG/vmlinuz" \
  -append "root=/dev/nvme0n1 rw console=ttyS0 panic=-1 init=${GT_VM_INIT:-/sbin/geartrain-vm-init} security=selinux enforcing=1 cgroup_no_v1=all" \
  -drive file="$IMG/root.img",if=none,id=root,format=raw,snapshot=on -device nvme,drive=root,serial=gtroot \
  -drive file="$OUT/data.img",if=none,id=data,format=raw -device nvme,drive=data,serial=gtdata \
  -serial file:"$OUT/console.log" </dev/null >"$OUT/qemu.log" 2>&1
RC=$?
set -e
END=$(date +%s.%N)
echo "$RC $(python3 -c "print(round($END - $START, 1))")" >"$OUT/qemu-exit"
debugfs -R "cat /results.json" "$OUT/data.img" >"$OUT/results.json" 2>/dev/null || true
rm -f "$OUT/data.img"
[ "$RC" = 0 ] || { echo "run-vm: qemu exited $RC (124: timed out after $LIMIT s)" >&2; tail -40 "$OUT/console.log" >&2; exit 1; }
