#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/debian-packages.txt that are not installed yet.
# Package maintainer scripts must not start daemons here (no init system); tests start their own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

list="$GEARTRAIN_ROOT/scripts/debian-packages.txt"
[ -f "$list" ] || exit 0
mapfile -t wanted < <(grep -Ev '^\s*(#|$)' "$list" | awk '{print $1}' | sort -u)
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  log "Debian packages: all ${#wanted[@]} installed"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "installing Debian packages needs root: sudo apt-get install -y ${missing[*]}"

log "Debian packages: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
added_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && added_policy=true
fi
trap '$added_policy && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "Debian packages: done"
