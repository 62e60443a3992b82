# Shared helpers for the setup scripts. Source it; it sets `GEARTRAIN_ROOT` and a few functions.
set -euo pipefail

GEARTRAIN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GEARTRAIN_ROOT

# Versions of the Pulumi toolchain this project builds (see docs/toolchain.md).
PULUMI_VERSION=3.248.0
COMMAND_PLUGIN_VERSION=1.2.1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Cache for build outputs that are too slow to rebuild per checkout; outside git, keyed by version.
geartrain_cache_dir() { printf '%s\n' "${GEARTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/geartrain}"; }

# Runs a long command while printing elapsed time every 30 s, so a cold build never looks hung.
with_progress() {
  local label=$1
  shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if kill -0 "$pid" 2>/dev/null && (((SECONDS - start) % 30 < 5)); then
      log "$label: still working ($((SECONDS - start)) s)"
    fi
  done
  wait "$pid"
}
