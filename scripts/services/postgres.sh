#!/usr/bin/env bash
# A private PostgreSQL cluster for the broker's tests and the dev stack (never Debian's own instance):
#
#   postgres.sh start --dir DIR --port PORT --db NAME --role NAME [--address 127.0.0.1] [--ephemeral]
#   postgres.sh stop  --dir DIR
#   postgres.sh check
#
# `start` runs initdb into DIR/data the first time (as the `postgres` OS user when run as root, else as the
# caller), listens only on the given loopback address and port, keeps its unix socket in DIR/data, starts the
# server with pg_ctl (log in DIR/postgres.log) and creates (or re-keys) the login role NAME owning database
# NAME. The role's password comes from the environment, never from argv: PG_PASSWORD_FILE (a file holding
# it) or PG_PASSWORD. Re-running `start` on a running cluster only re-applies the role. `--ephemeral` turns
# off fsync (throw-away test clusters only). stdout gets one line of non-secret connection facts:
# `host=… port=… dbname=… user=…`. Environment: PG_BIN (default /usr/lib/postgresql/15/bin).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() {
  printf 'postgres.sh: %s\n' "$*" >&2
  exit 1
}

check() {
  local missing=()
  for b in initdb pg_ctl postgres psql pg_isready; do
    [[ -x $PG_BIN/$b ]] || missing+=("$PG_BIN/$b")
  done
  if ((${#missing[@]})); then
    die "missing ${missing[*]}. Fix: apt-get update && apt-get install -y postgresql (listed in scripts/debian-packages.txt)"
  fi
  if ((EUID == 0)) && ! id -u postgres >/dev/null 2>&1; then
    die "no 'postgres' OS user to run the cluster as. Fix: apt-get install -y postgresql (its package creates the user)"
  fi
}

# Runs a PostgreSQL program as the cluster's OS user (postgres when we are root: initdb refuses root).
as_owner() {
  if ((EUID == 0)); then
    /usr/sbin/runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

owner_name() {
  if ((EUID == 0)); then printf 'postgres\n'; else id -un; fi
}

usage() {
  die "usage: postgres.sh start --dir DIR --port PORT --db NAME --role NAME [--address ADDR] [--ephemeral] | stop --dir DIR | check"
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
dir="" port="" db="" role="" address=127.0.0.1 ephemeral=0
while (($#)); do
  case $1 in
    --dir) dir=${2:-} && shift 2 ;;
    --port) port=${2:-} && shift 2 ;;
    --db) db=${2:-} && shift 2 ;;
    --role) role=${2:-} && shift 2 ;;
    --address) address=${2:-} && shift 2 ;;
    --ephemeral) ephemeral=1 && shift ;;
    *) die "unknown argument '$1'" ;;
  esac
done

# Every value below reaches a config file or SQL: each must match a strict pattern.
valid_dir() {
  [[ $dir =~ ^/[A-Za-z0-9._/-]+$ && $dir != *..* ]] || die "--dir: '$dir' must be an absolute path of [A-Za-z0-9._/-]"
}

case $cmd in
  check)
    check
    exit 0
    ;;
  stop)
    valid_dir
    check
    data=$dir/data
    [[ -f $data/postmaster.pid ]] || exit 0
    as_owner "$PG_BIN/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null
    exit 0
    ;;
  start) ;;
  *) usage ;;
esac

valid_dir
[[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port <= 65535)) || die "--port: '$port' must be a number 1024-65535"
[[ $address =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--address: '$address' must be a loopback address 127.x.y.z"
[[ $db =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "--db: '$db' must match [a-z_][a-z0-9_]{0,62}"
[[ $role =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "--role: '$role' must match [a-z_][a-z0-9_]{0,62}"
if [[ -n ${PG_PASSWORD_FILE:-} ]]; then
  [[ -r $PG_PASSWORD_FILE ]] || die "PG_PASSWORD_FILE: cannot read the file it names"
  PG_PASSWORD=$(<"$PG_PASSWORD_FILE")
fi
[[ -n ${PG_PASSWORD:-} ]] || die "PG_PASSWORD_FILE or PG_PASSWORD: the role's password is required (never on the command line)"
# only psql gets it: initdb and the server must not inherit it in their environment
pw=$PG_PASSWORD
unset PG_PASSWORD
check

data=$dir/data
mkdir -p "$dir"
chmod 0700 "$dir"
if ((EUID == 0)); then chown postgres: "$dir"; fi
cd "$dir"

if [[ ! -f $data/PG_VERSION ]]; then
  # peer for the owner on the socket (no superuser password exists), scram for every TCP login
  nosync=()
  ((ephemeral)) && nosync=(--no-sync)
  as_owner "$PG_BIN/initdb" -D "$data" -U "$(owner_name)" --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 "${nosync[@]}" >"$dir/initdb.log" 2>&1 || die "initdb failed: see $dir/initdb.log"
  {
    printf "listen_addresses = '%s'\n" "$address"
    printf 'port = %s\n' "$port"
    printf "unix_socket_directories = '%s'\n" "$data"
    printf "password_encryption = 'scram-sha-256'\n"
    # statements that fail are not logged with their text: a failed ALTER ROLE would show its password
    printf "log_min_error_statement = 'panic'\n"
    if ((ephemeral)); then
      printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
    fi
  } | as_owner tee -a "$data/postgresql.conf" >/dev/null
fi

if ! as_owner "$PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1; then
  as_owner "$PG_BIN/pg_ctl" start -D "$data" -l "$dir/postgres.log" -w -t 60 >/dev/null ||
    die "the server did not start: see $dir/postgres.log"
fi

# The password travels in psql's environment alone (runuser keeps it), which reads it with \getenv; the SQL is
# on stdin.
PG_PASSWORD=$pw as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$data" -p "$port" \
  -U "$(owner_name)" -d postgres -v role="$role" -v db="$db" >/dev/null <<'SQL' || die "creating role and database failed: see $dir/postgres.log"
\getenv pw PG_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" LOGIN PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL

printf 'host=%s port=%s dbname=%s user=%s\n' "$address" "$port" "$db" "$role"
