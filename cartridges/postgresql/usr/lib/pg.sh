# Shared by the postgresql cartridge's scripts (sourced): PGBIN = the newest Debian PostgreSQL bin dir.
pgbin=""
for d in /usr/lib/postgresql/*/bin; do
  if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
    pgbin=$d
  fi
done
if [ -z "$pgbin" ]; then
  echo "postgresql cartridge: no PostgreSQL server in /usr/lib/postgresql/*/bin. Fix: apt-get update && apt-get install -y postgresql" >&2
  exit 1
fi
PGBIN=$pgbin
PGDATA=${GEARTRAIN_POSTGRESQL_DATA_DIR%/}
export PGBIN PGDATA
