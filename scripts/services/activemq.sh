#!/usr/bin/env bash
# A private ActiveMQ (Debian's `activemq` package, /usr/share/activemq) for tests and development: one
# directory holds its configuration, data, log and pid file; it listens only where its config says (STOMP on
# loopback). Never the Debian default instance.
#
#   activemq.sh start <dir>    start it and wait until the STOMP port answers (ACTIVEMQ_WAIT_SECONDS, 60)
#   activemq.sh stop <dir>     stop it (SIGTERM, then SIGKILL after ACTIVEMQ_STOP_SECONDS, 20) and wait
#   activemq.sh status <dir>   exit 0 when it runs
#
# <dir>/conf must hold what services/bus/activemq/instance.ts writes (writeActiveMQInstance; the test helper
# test/helpers/services/activemq.ts does this): activemq.xml, credentials.properties (the passwords, mode
# 0600; never on a command line), log4j.properties and stomp.listen ("<address> <port>").
# Environment: ACTIVEMQ_HEAP (the Java heap, default 128M). Run as root, the JVM runs as the `activemq`
# user the package creates (the directory is given to it). Prints nothing secret.
set -euo pipefail

AMQ_HOME=/usr/share/activemq
HEAP="${ACTIVEMQ_HEAP:-128M}"

die() {
  echo "activemq.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd="$1"
dir="$2"
case "$dir" in
  /*) ;;
  *) die "the directory must be an absolute path: $dir" ;;
esac
[[ "$dir" =~ ^/[A-Za-z0-9._/-]+$ ]] || die "the directory must be a plain path ([A-Za-z0-9._/-]): $dir"
pidfile="$dir/activemq.pid"

running() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # the pid is this instance's JVM, not a recycled pid
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dactivemq.base=$dir " || return 1
}

port_answers() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

start() {
  [ -f "$AMQ_HOME/bin/activemq.jar" ] ||
    die "$AMQ_HOME/bin/activemq.jar is missing. Fix: apt-get update && apt-get install -y activemq"
  command -v java >/dev/null || die "java is missing. Fix: apt-get update && apt-get install -y default-jre-headless"
  for f in activemq.xml credentials.properties log4j.properties stomp.listen; do
    [ -f "$dir/conf/$f" ] || die "$dir/conf/$f is missing (write the instance with services/bus/activemq/instance.ts)"
  done
  local address port
  read -r address port <"$dir/conf/stomp.listen"
  [[ "$address" =~ ^[0-9.]+$ && "$port" =~ ^[0-9]+$ ]] || die "bad $dir/conf/stomp.listen"
  if running; then
    echo "activemq.sh: already running (pid $(cat "$pidfile"))"
    return 0
  fi
  if port_answers "$address" "$port"; then die "$address:$port is already taken by another process"; fi
  mkdir -p "$dir/data"
  local prefix=()
  if [ "$(id -u)" = 0 ] && id activemq >/dev/null 2>&1; then
    chown -R activemq:activemq "$dir/conf" "$dir/data"
    chmod 0600 "$dir/conf/credentials.properties"
    chmod 0711 "$dir"
    prefix=(setpriv --reuid=activemq --regid=activemq --init-groups --)
  fi
  : >"$dir/activemq.out"
  [ -z "${prefix[*]}" ] || chown activemq:activemq "$dir/activemq.out"
  # setsid: its own session, so the caller's terminal or process group does not take it down
  setsid "${prefix[@]}" java "-Xms${HEAP}" "-Xmx${HEAP}" -XX:+UseSerialGC \
    -Dorg.apache.activemq.UseDedicatedTaskRunner=false \
    --add-reads=java.xml=java.logging \
    --add-opens java.base/java.security=ALL-UNNAMED \
    --add-opens java.base/java.net=ALL-UNNAMED \
    --add-opens java.base/java.lang=ALL-UNNAMED \
    --add-opens java.base/java.util=ALL-UNNAMED \
    --add-opens java.naming/javax.naming.spi=ALL-UNNAMED \
    --add-opens java.base/java.util.concurrent=ALL-UNNAMED \
    --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    "-Dlog4j.configuration=file:$dir/conf/log4j.properties" \
    "-Dactivemq.classpath=$dir/conf" \
    "-Dactivemq.home=$AMQ_HOME" \
    "-Dactivemq.base=$dir" \
    "-Dactivemq.conf=$dir/conf" \
    "-Dactivemq.data=$dir/data" \
    -jar "$AMQ_HOME/bin/activemq.jar" start "xbean:file:$dir/conf/activemq.xml" \
    </dev/null >>"$dir/activemq.out" 2>&1 &
  echo $! >"$pidfile"
  local pid
  pid="$(cat "$pidfile")"
  local wait="${ACTIVEMQ_WAIT_SECONDS:-60}"
  local deadline=$((SECONDS + wait))
  while ! port_answers "$address" "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "activemq.sh: ActiveMQ exited during start; the end of its log:" >&2
      tail -n 30 "$dir/data/activemq.log" "$dir/activemq.out" >&2 2>/dev/null || true
      rm -f "$pidfile"
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$pidfile"
      die "STOMP did not answer on $address:$port within ${wait}s (log: $dir/data/activemq.log)"
    fi
    sleep 0.2
  done
  echo "activemq.sh: ActiveMQ (pid $pid) answers STOMP on $address:$port"
}

stop() {
  if ! running; then
    rm -f "$pidfile"
    echo "activemq.sh: not running"
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + ${ACTIVEMQ_STOP_SECONDS:-20}))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
  done
  rm -f "$pidfile"
  echo "activemq.sh: stopped (pid $pid)"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  *) usage ;;
esac
