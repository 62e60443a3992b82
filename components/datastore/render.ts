// Pure, deterministic rendering of the Datastore's files (postgresql.conf, pg_hba.conf) from its resolved
// spec: the same spec gives the same bytes. No secret is rendered (the role's password is set over psql).
import { readFileSync } from "fs";
import Handlebars from "handlebars";
import * as path from "path";
import { datastorePaths, DatastoreSpec } from "./resolve";
import { templateDir } from "../../common/template-dir";

const compiled = new Map<string, Handlebars.TemplateDelegate>();
function template(file: string): Handlebars.TemplateDelegate {
  let t = compiled.get(file);
  if (!t) {
    const dir = templateDir(__dirname, "components/datastore/templates", "postgresql.conf.hbs");
    t = Handlebars.create().compile(readFileSync(path.join(dir, file), "utf8"), {
      noEscape: true,
      strict: true,
    });
    compiled.set(file, t);
  }
  return t;
}

export function renderPostgresqlConf(spec: DatastoreSpec): string {
  return template("postgresql.conf.hbs")({ ...spec, paths: datastorePaths(spec) });
}

export function renderPgHba(spec: DatastoreSpec): string {
  return template("pg_hba.conf.hbs")({ ...spec, clients: [...spec.clients] });
}

/** pg_ident.conf: no user name maps. */
export function renderPgIdent(spec: DatastoreSpec): string {
  return `# pg_ident.conf of the Geartrain datastore '${spec.name}': no maps.\n`;
}

/** Creates the cluster once (initdb as the OS user); env GT_DIR, GT_USER, GT_PGBIN. */
export const CLUSTER_SCRIPT = [
  'id -u "$GT_USER" >/dev/null 2>&1 || { echo "no OS user $GT_USER. Fix: apt-get install -y postgresql" >&2; exit 1; }',
  '[ -x "$GT_PGBIN/initdb" ] || { echo "$GT_PGBIN/initdb is missing. Fix: apt-get install -y postgresql" >&2; exit 1; }',
  'as=(); if [ "$(id -u)" = 0 ]; then as=(runuser -u "$GT_USER" --); fi',
  'install -d -m 0755 -- "$GT_DIR" "$GT_DIR/conf"',
  'for sub in data run log; do install -d -m 0700 -o "$GT_USER" -g "$GT_USER" -- "$GT_DIR/$sub"; done',
  'if [ ! -f "$GT_DIR/data/PG_VERSION" ]; then',
  '  cd "$GT_DIR"',
  '  "${as[@]}" "$GT_PGBIN/initdb" -D "$GT_DIR/data" -U "$GT_USER" --auth-local=peer --auth-host=scram-sha-256 \\',
  '    --encoding=UTF8 --locale=C.UTF-8 >"$GT_DIR/initdb.log" 2>&1 || { tail -n 20 "$GT_DIR/initdb.log" >&2; exit 1; }',
  "fi",
].join("\n");

/**
 * Creates (or re-keys) the login role owning the database, over the socket as the cluster's superuser. The
 * password is only in psql's environment (GT_PASSWORD), read with \getenv; the SQL comes from a here-doc.
 * env GT_USER, GT_PGBIN, GT_RUN, GT_PORT, GT_DB, GT_ROLE, GT_PASSWORD.
 */
export const DATABASE_SCRIPT = [
  'as=(); if [ "$(id -u)" = 0 ]; then as=(runuser -u "$GT_USER" --); fi',
  "cd /",
  '"${as[@]}" "$GT_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$GT_RUN" -p "$GT_PORT" -U "$GT_USER" -d postgres \\',
  '  -v role="$GT_ROLE" -v db="$GT_DB" >/dev/null <<\'SQL\'',
  "\\getenv pw GT_PASSWORD",
  "SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \\gexec",
  "ALTER ROLE :\"role\" LOGIN PASSWORD :'pw';",
  "SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \\gexec",
  "SQL",
].join("\n");
