#!/usr/bin/env bash
# Host packages of the real-kernel tier (also in scripts/debian-packages.txt, which setup.sh installs):
# qemu, debootstrap, setfiles (policycoreutils), the SELinux devel Makefile. The guest kernel is downloaded by
# build-image.sh with `apt-get download` and unpacked, never installed on the host.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "test/vm/setup.sh: run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq -o DPkg::Lock::Timeout=600
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
  qemu-system-x86 debootstrap selinux-policy-dev policycoreutils semodule-utils checkpolicy e2fsprogs util-linux >/dev/null
