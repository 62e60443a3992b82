#!/bin/sh
# PID 1 of the test VM (test/vm/). Stage 1 (kernel_t): mounts the kernel filesystems and cgroup v2 (the kernel
# runs with cgroup_no_v1=all), loads Debian's policy (the kernel never loads one itself; enforcing=1 is on the
# command line) and turns on allow_execmem (Node's JIT, for root's tooling; the gear domain has execmem in the
# gear module). Then it re-executes itself, as a real init does: this file is labelled init_exec_t, so the
# exec enters init_t. Stage 2 runs the run's own script from the second disk (/opt/geartrain/vm/run.sh) and
# powers off. Its output goes to the serial console, which the host keeps.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
if [ "$1" != stage2 ]; then
  mount -t proc proc /proc
  mount -t sysfs sys /sys
  mount -t devtmpfs dev /dev 2>/dev/null
  mkdir -p /dev/pts /dev/shm
  mount -t devpts devpts /dev/pts
  mount -t tmpfs -o mode=1777 tmpfs /dev/shm
  mount -t tmpfs -o mode=0755 tmpfs /run
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
  echo "geartrain-vm: init at $(cut -d' ' -f1 /proc/uptime) s"
  load_policy -i || echo "geartrain-vm: load_policy failed"
  echo "geartrain-vm: selinux enforce=$(cat /sys/fs/selinux/enforce 2>/dev/null), policy loaded at $(cut -d' ' -f1 /proc/uptime) s"
  setsebool allow_execmem 1 || echo "geartrain-vm: setsebool allow_execmem failed"
  # the device and tmpfs nodes made before the policy was loaded get their proper types
  restorecon -R /dev /run /tmp /dev/shm >/dev/null 2>&1
  ip link set lo up
  mkdir -p /opt/geartrain
  # the data disk carries its labels (usr_t, set by run-vm.sh on the host)
  mount /dev/nvme1n1 /opt/geartrain || echo "geartrain-vm: no data disk"
  exec "$0" stage2
fi
echo "geartrain-vm: init stage 2 in $(cat /proc/self/attr/current)"
if [ -f /opt/geartrain/vm/run.sh ]; then
  sh /opt/geartrain/vm/run.sh
  echo "geartrain-vm: run.sh exited $?"
  sync
  umount /opt/geartrain
fi
sync
echo "geartrain-vm: power off at $(cut -d' ' -f1 /proc/uptime) s"
echo o >/proc/sysrq-trigger
sleep 30
