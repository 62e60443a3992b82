# Source this file to use the project's Pulumi toolchain directly:  source scripts/env.sh && pulumi preview
# It sets PATH, the project-local PULUMI_HOME, the file backend and the passphrase secrets provider.
# It builds nothing: `npm run setup` (or either README command) builds the toolchain first.
_gt_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_gt_root/.geartrain/bin:$PATH"
export PULUMI_HOME="$_gt_root/.pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Plugins on PATH would shadow the ones installed in PULUMI_HOME with a warning each run.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_gt_root/.state}"
# Type checking is `npm run build`'s job; the engine only needs the program transpiled.
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"

if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  _gt_pass="${GEARTRAIN_HOME:-$HOME/.geartrain}/passphrase"
  if [ ! -s "$_gt_pass" ]; then
    (umask 077 && mkdir -p "$(dirname "$_gt_pass")" && head -c 32 /dev/urandom | base64 >"$_gt_pass")
    echo "geartrain: created the stack secrets passphrase at $_gt_pass (mode 0600); back it up: without it the stacks' secrets cannot be decrypted" >&2
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE="$_gt_pass"
  unset _gt_pass
fi
mkdir -p "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true

if ! [ -x "$_gt_root/.geartrain/bin/pulumi" ]; then
  echo "geartrain: the Pulumi toolchain is not set up in $_gt_root: run \`npm run setup\`" >&2
fi
unset _gt_root
