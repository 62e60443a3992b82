#!/usr/bin/env bash
# Builds (once) the Debian 12 root filesystem the test hosts start from and prints its directory.
#
#   bash scripts/test-hosts/build-rootfs.sh [package-list]      # default: rootfs-packages.txt beside this
#
# The image is cached outside git under $GEARTRAIN_CACHE (default ~/.cache/geartrain)/rootfs/<key>/tree,
# where <key> is a hash of the package list and of this script. A warm run prints the path at once; a cold
# run runs debootstrap (minbase) under `nice -n 10`, then installs the list with apt inside the tree with a
# policy-rc.d that refuses to start any daemon (nothing may bind the machine's own addresses while the tree
# is built). Concurrent callers wait on a lock; a half-built tree is never published (built beside, renamed).
# Debian packages are downloaded into a cache shared by all builds (…/rootfs/debs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

[ "$(id -u)" = 0 ] || die "building the test-host image needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing. Fix: apt-get update && apt-get install -y debootstrap (in scripts/debian-packages.txt)"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list=${1:-$here/rootfs-packages.txt}
[ -f "$list" ] || die "package list $list does not exist"
mapfile -t packages < <(grep -Ev '^\s*(#|$)' "$list" | awk '{print $1}' | sort -u)
for p in "${packages[@]}"; do
  [[ $p =~ ^[a-z0-9][a-z0-9+.-]*$ ]] || die "package list $list: '$p' is not a Debian package name"
done

# The mirror: the first Debian (not -security) URI of this machine's apt sources, deb822 or one-line form.
mirror=${GEARTRAIN_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -Eo 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
security=${mirror%/debian}/debian-security

key=$( (printf '%s\n' "${packages[@]}" && cat "${BASH_SOURCE[0]}") | sha256sum | cut -c1-16)
base="$(geartrain_cache_dir)/rootfs"
out="$base/$key"
mkdir -p "$base/debs"
exec 9>"$base/$key.lock"
flock 9
if [ -f "$out/ready" ]; then
  printf '%s\n' "$out/tree"
  exit 0
fi

start=$SECONDS
work="$base/.build-$key-$$"
rm -rf "$work"
mkdir -p "$work"
cleanup() {
  local m ok=true
  for m in var/cache/apt/archives proc dev; do
    if mountpoint -q "$work/tree/$m" 2>/dev/null; then umount "$work/tree/$m" || ok=false; fi
  done
  # never remove through a bind mount (the tree binds the machine's /dev while it is built)
  if $ok && ! grep -qF " $work/" /proc/self/mounts; then
    rm -rf --one-file-system "$work"
  else
    log "left $work in place: something is still mounted under it"
  fi
}
trap cleanup EXIT
log "test-host image $key: debootstrap bookworm from $mirror (cold build, nice -n 10)"
with_progress debootstrap nice -n 10 debootstrap --variant=minbase --cache-dir="$base/debs" \
  bookworm "$work/tree" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  die "debootstrap failed; last lines: $(tail -n 20 "$work/debootstrap.log")"

t=$work/tree
printf '#!/bin/sh\n# test hosts: no package may start a daemon; the harness and the stacks start them\nexit 101\n' \
  >"$t/usr/sbin/policy-rc.d"
chmod 0755 "$t/usr/sbin/policy-rc.d"
cat >"$t/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SRC
cp /etc/resolv.conf "$t/etc/resolv.conf"
mount --bind /dev "$t/dev"
mount -t proc proc "$t/proc"
# the shared download cache, so a rebuild with one more package downloads only that one
mkdir -p "$t/var/cache/apt/archives"
mount --bind "$base/debs" "$t/var/cache/apt/archives"
in_tree() { nice -n 10 chroot "$t" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
log "test-host image $key: apt-get install ${packages[*]}"
with_progress apt in_tree apt-get -q -o DPkg::Lock::Timeout=600 update >"$work/apt.log" 2>&1 ||
  die "apt-get update in the image failed: $(tail -n 20 "$work/apt.log")"
with_progress apt in_tree apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends \
  "${packages[@]}" >>"$work/apt.log" 2>&1 ||
  die "apt-get install in the image failed: $(tail -n 20 "$work/apt.log")"
umount "$t/var/cache/apt/archives"
umount "$t/proc"
umount "$t/dev"
in_tree apt-get clean

# Per-host things are made at start by the harness, never shared through the image:
rm -f "$t"/etc/ssh/ssh_host_*            # each host generates its own host keys
rm -f "$t/etc/machine-id" "$t/var/lib/dbus/machine-id"
: >"$t/etc/resolv.conf"                  # test hosts resolve nothing outside (no network beyond the bridge)
mkdir -p "$t/run/sshd" "$t/root/.ssh"
chmod 0700 "$t/root/.ssh"
printf 'test hosts image %s: Debian bookworm minbase + %s\n' "$key" "${packages[*]}" >"$t/etc/geartrain-test-host"

mkdir -p "$out"
rm -rf "$out/tree"
mv "$t" "$out/tree"
cp "$work/debootstrap.log" "$work/apt.log" "$out/" 2>/dev/null || true
printf '%s\n' "${packages[@]}" >"$out/packages"
echo "$((SECONDS - start))" >"$out/build-seconds"
touch "$out/ready"
log "test-host image $key: built in $((SECONDS - start)) s"
printf '%s\n' "$out/tree"
