#!/usr/bin/env bash
# Everything a fresh machine needs before deploying or testing: npm dependencies, Debian packages,
# the compiled TypeScript, and the Pulumi toolchain. Each step is skipped when already done.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GEARTRAIN_ROOT"

# npm ci only when package-lock.json changed since the last install (it wipes node_modules).
stamp=node_modules/.geartrain-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # a git worktree that links another checkout's node_modules must not wipe it for everyone
  [ ! -L node_modules ] || die "node_modules is a link to another checkout's and its lock differs: run \`npm ci\` there"
  log "npm ci"
  npm ci --no-audit --no-fund >&2
  echo "$want" >"$stamp"
else
  log "npm dependencies: up to date"
  log "compiling TypeScript"
  npm run --silent build >&2
fi
# The policy pack's own dependencies (@pulumi/policy and the SDK it runs on) in policies/node_modules, from
# its lock, when that changed; no install scripts (the one in its tree, protobufjs's, is not needed).
pstamp=policies/node_modules/.geartrain-lock.sha256
pwant=$(sha256sum policies/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$pstamp" 2>/dev/null)" != "$pwant" ]; then
  log "npm ci in policies/ (the policy pack's dependencies)"
  (cd policies && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2
  echo "$pwant" >"$pstamp"
else
  log "policy pack dependencies: up to date"
fi
bash scripts/setup-debian.sh
bash scripts/toolchain.sh >/dev/null
log "setup complete"
