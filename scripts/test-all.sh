#!/usr/bin/env bash
# Runs every test tier after the same setup the dev deployment uses. Tiers that need root, real
# daemons or the engine run one file at a time, so measurements and ports do not interfere.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$GEARTRAIN_ROOT/scripts/setup.sh"
cd "$GEARTRAIN_ROOT"

log "lint"
npx eslint .
npx prettier --check . >/dev/null || die "formatting differs: run \`npm run format\`"

log "unit tests"
npx jest --ci --testPathIgnorePatterns '/(test/(node|integration|e2e|conformance|vm)|node_modules|dist)/'

# the test hosts' Debian image (docs/test-hosts.md): built once and cached, before the tests, so a cold build
# (a few minutes) is not counted inside a test's time
if [ "$(id -u)" = 0 ]; then
  log "test-host image"
  nice -n 10 bash "$GEARTRAIN_ROOT/scripts/test-hosts/build-rootfs.sh" >/dev/null
fi

log "host, integration and end-to-end tests"
npx jest --ci --runInBand test/node test/integration test/e2e test/conformance

log "real-kernel tier: SELinux enforcing + cgroup v2 in a qemu guest (test/vm/; image cached in ~/.cache/geartrain/vm/)"
npx jest --ci --runInBand test/vm
