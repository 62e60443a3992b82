#!/usr/bin/env bash
# A private BIND 9 nameserver (Debian's bind9) for tests and the dev stack: its own named.conf, zone,
# TSIG key, pid file, log and journal in one directory, listening on one address and port (never the
# Debian instance, never port 53). Prints nothing secret: the key stays in its 0600 file.
#
#   bind.sh check                          the programs are installed (else: the apt-get command)
#   bind.sh keygen DIR KEYNAME             DIR/tsig.key from tsig-keygen -a hmac-sha256 (kept if present)
#   bind.sh start DIR ADDRESS PORT ZONE    named -c DIR/named.conf (rendered beforehand by
#                                          components/dns/render.ts), waits until it answers for ZONE
#   bind.sh stop DIR                       stops the instance whose pid is in DIR/named.pid
set -euo pipefail

die() {
  printf 'bind.sh: %s\n' "$*" >&2
  exit 1
}
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

PROGRAMS=(/usr/sbin/named /usr/bin/named-checkconf /usr/bin/named-checkzone /usr/sbin/tsig-keygen /usr/bin/nsupdate /usr/bin/dig)

check() {
  local p
  for p in "${PROGRAMS[@]}"; do
    [[ -x $p ]] || die "$p is missing. Fix: apt-get update && apt-get install -y bind9 bind9-dnsutils"
  done
}

plain_dir() {
  [[ $1 =~ ^/[A-Za-z0-9._/-]+$ && ! $1 =~ (^|/)\.\.(/|$) ]] || die "DIR must be a plain absolute path: $1"
  [[ -d $1 ]] || die "no directory $1"
}

pid_of() {
  local f=$1/named.pid pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

keygen() {
  local dir=$1 name=$2
  plain_dir "$dir"
  [[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || die "KEYNAME must be a DNS name: $name"
  check
  local key=$dir/tsig.key
  if [[ ! -s $key ]]; then
    (umask 077 && /usr/sbin/tsig-keygen -a hmac-sha256 "$name" >"$key.tmp" && mv "$key.tmp" "$key")
  fi
  chmod 600 "$key"
  printf '%s\n' "$key"
}

start() {
  local dir=$1 address=$2 port=$3 zone=$4
  plain_dir "$dir"
  [[ $address =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "ADDRESS must be an IPv4 address: $address"
  [[ $port =~ ^[0-9]{1,5}$ ]] && ((port >= 1 && port <= 65535)) || die "PORT must be 1-65535: $port"
  [[ $port != 53 ]] || die "PORT 53 is the host's nameserver's: use a port of your own"
  [[ $zone =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "ZONE must be a lower-case DNS name: $zone"
  check
  local conf=$dir/named.conf
  [[ -f $conf ]] || die "$conf is missing: render it with components/dns/render.ts (renderNamedConf)"
  [[ -f $dir/tsig.key ]] || die "$dir/tsig.key is missing: run bind.sh keygen $dir <keyname>"
  if pid_of "$dir" >/dev/null; then
    printf 'bind.sh: named already running in %s (pid %s)\n' "$dir" "$(pid_of "$dir")" >&2
    return 0
  fi
  /usr/bin/named-checkconf -z "$conf" >/dev/null || die "named-checkconf -z $conf failed (output above)"
  # -4: IPv4 only; -n 1: one worker thread; no -f/-g: named forks and writes its pid file
  /usr/sbin/named -4 -n 1 -c "$conf" || die "named -c $conf did not start; log: $dir/named.log"
  local i
  for ((i = 0; i < 100; i++)); do
    if /usr/bin/dig +short +tries=1 +time=1 -p "$port" "@$address" "$zone" SOA 2>/dev/null | grep -q .; then
      printf 'bind.sh: named serving %s on %s:%s (pid %s)\n' "$zone" "$address" "$port" "$(pid_of "$dir" || echo '?')" >&2
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$dir/named.log" >&2 2>/dev/null || true
  stop "$dir" || true
  die "named in $dir did not answer for $zone on $address:$port within 10 s"
}

stop() {
  local dir=$1 pid i
  plain_dir "$dir"
  pid=$(pid_of "$dir") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  die "named $pid in $dir did not stop within 10 s (killed)"
}

cmd=${1:-}
shift || true
case $cmd in
  check) (($# == 0)) || usage; check ;;
  keygen) (($# == 2)) || usage; keygen "$@" ;;
  start) (($# == 4)) || usage; start "$@" ;;
  stop) (($# == 1)) || usage; stop "$@" ;;
  *) usage ;;
esac
