# Source this file to use the project's Pulumi toolchain directly:  source scripts/env.sh && pulumi preview
# It sets PATH, the project-local PULUMI_HOME, the file backend, the passphrase secrets provider and
# links the per-user stack config folder.
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

_gt_home="${GEARTRAIN_HOME:-$HOME/.geartrain}"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  _gt_pass="$_gt_home/passphrase"
  if [ ! -s "$_gt_pass" ]; then
    (umask 077 && mkdir -p "$(dirname "$_gt_pass")" && head -c 32 /dev/urandom | base64 >"$_gt_pass")
    echo "geartrain: created the stack secrets passphrase at $_gt_pass (mode 0600); back it up: without it the stacks' secrets cannot be decrypted" >&2
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE="$_gt_pass"
  unset _gt_pass
fi
mkdir -p "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true

# The stacks' config files (Pulumi.yaml: stackConfigDir) hold the user's salt and secrets, so they live
# in the user's home, one folder per checkout (named after it, plus a hash of its path); the engine
# writes there and never into the tree. The link is only replaced when it points elsewhere.
_gt_stacks=$(realpath -m "$_gt_home/stacks/$(basename "$_gt_root" | tr -c 'A-Za-z0-9._\n-' _)-$(printf %s "$_gt_root" | sha256sum | cut -c1-8)")
(umask 077 && mkdir -p "$_gt_stacks")
[ -f "$_gt_stacks/checkout" ] || printf '%s\n' "$_gt_root" >"$_gt_stacks/checkout"
if [ -L "$_gt_root/.geartrain/stacks" ] || [ ! -e "$_gt_root/.geartrain/stacks" ]; then
  if [ "$(readlink "$_gt_root/.geartrain/stacks")" != "$_gt_stacks" ]; then
    mkdir -p "$_gt_root/.geartrain" && ln -sfn "$_gt_stacks" "$_gt_root/.geartrain/stacks"
  fi
else
  echo "geartrain: $_gt_root/.geartrain/stacks is not a link to $_gt_stacks: move its files there and remove it" >&2
fi
# A stack whose config file is missing (a new home, a moved checkout) keeps the salt recorded in its
# state instead of getting a new one, so the secrets already in state still decrypt.
export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true

if ! [ -x "$_gt_root/.geartrain/bin/pulumi" ]; then
  echo "geartrain: the Pulumi toolchain is not set up in $_gt_root: run \`npm run setup\`" >&2
fi
unset _gt_root _gt_home _gt_stacks
