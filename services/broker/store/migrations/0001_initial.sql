-- The broker's schema, first version (origin-server kept the same state in MongoDB, reference §7.2).
-- Ids are 32 lowercase hex digits. Names are checked by services/broker/model/validate.ts before they get
-- here; the CHECKs below are the last line, not the error messages users see.

-- Up Migration

CREATE TABLE users (
  id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  login         text NOT NULL UNIQUE,
  -- scrypt$N$r$p$salt$hash (base64url); NULL: no password login (tokens only)
  password_hash text,
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  max_gears     integer NOT NULL DEFAULT 100 CHECK (max_gears >= 0),
  max_domains   integer NOT NULL DEFAULT 10 CHECK (max_domains >= 0),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE authorizations (
  id         text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- sha256 of the token, hex; the token itself is shown once and never stored
  token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  scopes     text[] NOT NULL,
  note       text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX authorizations_user ON authorizations (user_id);

CREATE TABLE ssh_keys (
  id         text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name       text NOT NULL,
  type       text NOT NULL,
  content    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name)
);

CREATE TABLE domains (
  id         text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  -- namespaces are unique whatever their case (they become DNS labels)
  namespace  text NOT NULL,
  owner_id   text NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX domains_namespace ON domains (lower(namespace));
CREATE INDEX domains_owner ON domains (owner_id);

CREATE TABLE applications (
  id         text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  name       text NOT NULL,
  domain_id  text NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
  profile    text NOT NULL,
  state      text NOT NULL DEFAULT 'creating'
             CHECK (state IN ('creating', 'started', 'stopped', 'idle', 'deleting', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX applications_domain_name ON applications (domain_id, lower(name));

CREATE TABLE districts (
  id         text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  name       text NOT NULL UNIQUE,
  profile    text NOT NULL,
  first_uid  integer NOT NULL CHECK (first_uid >= 1000),
  uid_count  integer NOT NULL CHECK (uid_count > 0),
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The free UIDs of each district (origin-server's `available_uids`): reserving deletes one row (the lowest
-- `ord`, FOR UPDATE SKIP LOCKED so concurrent brokers take different rows), releasing puts it back with an
-- `ord` after every fresh one. New districts get their UIDs in shuffled order, as origin's did.
CREATE TABLE district_free_uids (
  district_id text NOT NULL REFERENCES districts (id) ON DELETE CASCADE,
  uid         integer NOT NULL,
  ord         double precision NOT NULL,
  PRIMARY KEY (district_id, uid)
);
CREATE INDEX district_free_uids_order ON district_free_uids (district_id, ord);

-- The reserved UIDs: the primary key makes a duplicate impossible whatever happens to the pool. `holder`
-- names what the UID is reserved for (a gear's id), so an undo can release by holder after a crash.
CREATE TABLE uid_reservations (
  district_id text NOT NULL REFERENCES districts (id) ON DELETE RESTRICT,
  uid         integer NOT NULL,
  holder      text NOT NULL,
  reserved_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (district_id, uid)
);
CREATE UNIQUE INDEX uid_reservations_holder ON uid_reservations (district_id, holder);

CREATE TABLE nodes (
  identity  text PRIMARY KEY,
  facts     jsonb,
  last_seen timestamptz
);

-- A node belongs to at most one district.
CREATE TABLE district_nodes (
  identity    text PRIMARY KEY,
  district_id text NOT NULL REFERENCES districts (id) ON DELETE RESTRICT,
  active      boolean NOT NULL DEFAULT true,
  added_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX district_nodes_district ON district_nodes (district_id);

CREATE TABLE gears (
  id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  app_id      text NOT NULL REFERENCES applications (id) ON DELETE RESTRICT,
  district_id text NOT NULL,
  uid         integer NOT NULL,
  node        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- a gear holds a reserved UID: releasing it while the gear exists fails
  FOREIGN KEY (district_id, uid) REFERENCES uid_reservations (district_id, uid) ON DELETE RESTRICT,
  UNIQUE (district_id, uid)
);
CREATE INDEX gears_app ON gears (app_id);
CREATE INDEX gears_node ON gears (node);

CREATE TABLE app_cartridges (
  app_id     text NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  name       text NOT NULL,
  version    text NOT NULL,
  type       text NOT NULL CHECK (type IN ('web', 'addon')),
  status     text NOT NULL DEFAULT 'new',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, name)
);
-- one web cartridge per application
CREATE UNIQUE INDEX app_cartridges_one_web ON app_cartridges (app_id) WHERE type = 'web';

CREATE TABLE env_vars (
  app_id text NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  name   text NOT NULL,
  value  text NOT NULL,
  PRIMARY KEY (app_id, name)
);

-- Multi-step changes (origin-server's pending_op_groups): a chain of steps, each with its undo data, run by
-- whichever broker holds the lease (claimed_by until claimed_until); another broker claims it once the lease
-- has run out (SELECT ... FOR UPDATE SKIP LOCKED) and goes on forward or back.
CREATE TABLE pending_ops (
  id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  app_id        text,
  kind          text NOT NULL,
  steps         jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
  current_step  integer NOT NULL DEFAULT 0 CHECK (current_step >= 0),
  state         text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'rolling_back', 'failed')),
  claimed_by    text,
  claimed_until timestamptz,
  error         jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_ops_open ON pending_ops (created_at) WHERE state IN ('pending', 'running', 'rolling_back');
CREATE INDEX pending_ops_app ON pending_ops (app_id);

-- Down Migration

DROP TABLE pending_ops;
DROP TABLE env_vars;
DROP TABLE app_cartridges;
DROP TABLE gears;
DROP TABLE district_nodes;
DROP TABLE nodes;
DROP TABLE uid_reservations;
DROP TABLE district_free_uids;
DROP TABLE districts;
DROP TABLE applications;
DROP TABLE domains;
DROP TABLE ssh_keys;
DROP TABLE authorizations;
DROP TABLE users;
