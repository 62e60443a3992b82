#!/usr/bin/env bash
# Builds (or finds cached) the guest of the real-kernel test tier: a Debian 12 root filesystem with Debian's
# SELinux policy and Geartrain's gear policy module installed by the node's own code, labelled at build time
# (setfiles -r from the host), as an ext4 image; and Debian's cloud kernel, which has NVMe and ext4 built in
# (no initramfs). Everything lives outside git, in $GEARTRAIN_VM_CACHE (default ~/.cache/geartrain/vm/), keyed
# by a hash of what went into it: this script and the guest init, the package list, the policy module sources
# and the code that installs them, the kernel package and the Node binary. A change to any of them builds a new image; old ones are removed.
#
#   build-image.sh <staged project>    prints the image directory (root.img, vmlinuz) on stdout
#
# The staged project (stage-project.sh) is used once, in a chroot, to install the module with the node's
# own `geartrain node selinux install`; it is not left in the image (each run brings its own). Runs debootstrap under nice; cleans up its mounts on any exit.
set -euo pipefail
PROJECT=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${GEARTRAIN_VM_CACHE:-$HOME/.cache/geartrain/vm}
MIRROR=${GEARTRAIN_VM_MIRROR:-http://deb.debian.org/debian}
KERNEL_PKG=linux-image-cloud-amd64
NODE_BIN=$(command -v node)
# the guest's gear git sshd port (the dev stack's NodeHost gitSsh.port): not 22, which Debian labels ssh_port_t
GIT_SSH_PORT=10022
log() { echo "vm-image: $*" >&2; }
die() { echo "vm-image: $*" >&2; exit 1; }

for t in debootstrap mkfs.ext4 setfiles apt-get dpkg-deb sha256sum; do
  command -v "$t" >/dev/null || die "$t is missing: run \`bash test/vm/setup.sh\`"
done

# Guest packages: SELinux (policy, tools, the devel Makefile the node compiles its module with), what the node
# layer runs (perl-base is Essential; coreutils' runcon; passwd's useradd), git and sshd for git push, python3
# for the python/static cartridges, cron.
PACKAGES=selinux-basics,selinux-policy-default,selinux-policy-dev,selinux-utils,policycoreutils,semodule-utils,checkpolicy,make,m4,passwd,util-linux,mount,e2fsprogs,procps,git,openssh-server,openssh-client,python3,cron,iproute2,nftables

KVER=$(apt-cache depends "$KERNEL_PKG" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$KVER" ] || die "cannot resolve $KERNEL_PKG: run \`apt-get update\`"
KVERSION=$(apt-cache policy "$KVER" | sed -n 's/^ *Candidate: //p')
KEY=$( {
  cat "$HERE/build-image.sh" "$HERE/guest-init.sh"
  echo "$PACKAGES $MIRROR $KVER $KVERSION"
  "$NODE_BIN" --version
  sha256sum "$NODE_BIN" | cut -d' ' -f1
  cat "$PROJECT"/node/host/selinux/geartrain.{te,fc,if}
  # the code that installs the policy and generates the node labels
  cat "$PROJECT"/dist/node/host/selinux/policy.js "$PROJECT"/dist/node/host/{mcs,addresses}.js
} | sha256sum | cut -c1-16)
OUT="$CACHE/$KEY"
if [ -f "$OUT/done" ]; then
  echo "$OUT"
  exit 0
fi

log "building image $KEY (cold build: debootstrap, policy, module) in $OUT"
START=$(date +%s)
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
ROOT="$WORK/root"
MOUNTS=()
cleanup() {
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# the kernel: downloaded and unpacked, never installed on the host
(cd "$WORK" && apt-get download "$KVER" >/dev/null)
dpkg-deb -x "$WORK"/"$KVER"_*.deb "$WORK/kernel"
VMLINUZ=$(ls "$WORK"/kernel/boot/vmlinuz-*)

mkdir -p "$CACHE/debs"
nice -n 10 debootstrap --cache-dir="$CACHE/debs" --variant=minbase --include="$PACKAGES" bookworm "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*

# Node (the host's v20, same glibc) and the built project, to install the module with the node's own code
install -m 0755 "$NODE_BIN" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/tmp/gt"
cp -a "$PROJECT"/. "$ROOT/tmp/gt/"
mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc")
mkdir -p "$ROOT/var/lib/geartrain/.geartrain"
# the image's node config: the gear git sshd on another port than 22, as a NodeHost runs it (its gitSsh.port);
# the generated module labels that port ssh_port_t. guest-checks.js reads the port from this file.
mkdir -p "$ROOT/etc/geartrain"
printf '{"selinux": {"gitSshPort": %s}}\n' "$GIT_SSH_PORT" >"$ROOT/etc/geartrain/node.json"
nice -n 10 chroot "$ROOT" /usr/local/bin/node /tmp/gt/bin/geartrain node selinux install --json >"$WORK/module.json" ||
  die "geartrain node selinux install failed in the chroot"
umount "$ROOT/proc" && MOUNTS=()
rm -rf "$ROOT/tmp/gt"

# guest setup: sshd host keys, the enforcing config (the kernel command line enforces anyway), the init
chroot "$ROOT" ssh-keygen -A >/dev/null
sed -i 's/^SELINUX=.*/SELINUX=enforcing/' "$ROOT/etc/selinux/config" 2>/dev/null ||
  printf 'SELINUX=enforcing\nSELINUXTYPE=default\n' >"$ROOT/etc/selinux/config"
install -m 0755 "$HERE/guest-init.sh" "$ROOT/sbin/geartrain-vm-init"
echo geartrain-vm >"$ROOT/etc/hostname"
mkdir -p "$ROOT/opt/geartrain"

# label from the host: setfiles with the guest's own file contexts (now including the gear module's)
FC="$ROOT/etc/selinux/default/contexts/files/file_contexts"
setfiles -r "$ROOT" "$FC" "$ROOT" 2>"$WORK/setfiles.log" || { tail "$WORK/setfiles.log" >&2; die "setfiles failed"; }

# the init re-executes itself after loading the policy and so enters init_t, as a real init does
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "security.selinux", b"system_u:object_r:init_exec_t:s0\0")' \
  "$ROOT/sbin/geartrain-vm-init"

USED=$(du -sm "$ROOT" | cut -f1)
truncate -s $((USED * 2 + 600))M "$WORK/root.img"
mkfs.ext4 -q -F -L gtroot -d "$ROOT" "$WORK/root.img"
mkdir -p "$OUT.tmp"
mv "$WORK/root.img" "$OUT.tmp/root.img"
cp "$VMLINUZ" "$OUT.tmp/vmlinuz"
cp "$WORK/module.json" "$OUT.tmp/module.json"
echo "$KVER $KVERSION" >"$OUT.tmp/kernel"
echo "$(($(date +%s) - START))" >"$OUT.tmp/build-seconds"
touch "$OUT.tmp/done"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
# keep only this image
for d in "$CACHE"/*/; do
  d=${d%/}
  [[ "$(basename "$d")" =~ ^[0-9a-f]{16}$ ]] && [ "$d" != "$OUT" ] && rm -rf "$d"
done
log "built in $(cat "$OUT/build-seconds") s: $OUT (root filesystem ${USED} MiB)"
echo "$OUT"
