"use strict";
// Geartrain quickstart: a guestbook (Node.js, no framework) that stores its entries in the PostgreSQL
// cartridge of the same gear. Routes:
//   GET  /              the entries as HTML (escaped), with a form
//   POST /entries       store one (form-urlencoded or JSON: {"name": "...", "message": "..."})
//   GET  /entries.json  the entries as JSON
//   GET  /health        "ok" when the database answers
// The connection comes from the variables the postgresql cartridge publishes (GEARTRAIN_POSTGRESQL_DB_URL,
// else GEARTRAIN_POSTGRESQL_DB_HOST/_PORT/_USERNAME/_PASSWORD/_DATABASE).
const http = require("http");
const { Pool } = require("pg");

const env = process.env;
const ip = env.GEARTRAIN_NODEJS_IP || "127.0.0.1";
const port = Number(env.GEARTRAIN_NODEJS_PORT || 8080);
const app = env.GEARTRAIN_APP_NAME || "guestbook";
const MAX_BODY = 16 * 1024;
const MAX_NAME = 100;
const MAX_MESSAGE = 2000;

function dbConfig() {
  if (env.GEARTRAIN_POSTGRESQL_DB_URL) return { connectionString: env.GEARTRAIN_POSTGRESQL_DB_URL };
  if (env.GEARTRAIN_POSTGRESQL_DB_HOST)
    return {
      host: env.GEARTRAIN_POSTGRESQL_DB_HOST,
      port: Number(env.GEARTRAIN_POSTGRESQL_DB_PORT || 5432),
      user: env.GEARTRAIN_POSTGRESQL_DB_USERNAME,
      password: env.GEARTRAIN_POSTGRESQL_DB_PASSWORD,
      database: env.GEARTRAIN_POSTGRESQL_DB_DATABASE,
    };
  return null;
}

const cfg = dbConfig();
const pool = cfg ? new Pool({ ...cfg, max: 4, connectionTimeoutMillis: 5000 }) : null;
// an idle client that loses the server (database restarted) must not crash the app
if (pool) pool.on("error", (e) => console.error(`guestbook: idle database client: ${e.message}`));

// the table is made on start; a request retries when the database was not reachable yet
let ready = null;
function ensureTable() {
  if (!pool) return Promise.reject(new Error("no database: install the postgresql cartridge in this gear"));
  if (!ready) {
    ready = pool
      .query(
        `CREATE TABLE IF NOT EXISTS guestbook_entries (
           id serial PRIMARY KEY,
           name text NOT NULL,
           message text NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now())`,
      )
      .catch((e) => {
        ready = null;
        throw e;
      });
  }
  return ready;
}

const escapeHtml = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}
const sendJson = (res, status, value) =>
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value) + "\n");

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`body larger than ${MAX_BODY} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function badRequest(message) {
  return Object.assign(new Error(message), { status: 400 });
}

async function parseEntry(req) {
  const type = String(req.headers["content-type"] || "")
    .split(";")[0]
    .trim()
    .toLowerCase();
  const text = await readBody(req);
  let fields;
  if (type === "application/json") {
    try {
      fields = JSON.parse(text);
    } catch {
      throw badRequest("body is not valid JSON");
    }
    if (!fields || typeof fields !== "object" || Array.isArray(fields))
      throw badRequest("expected a JSON object");
  } else if (type === "application/x-www-form-urlencoded" || type === "") {
    fields = Object.fromEntries(new URLSearchParams(text));
  } else {
    throw Object.assign(new Error(`unsupported content-type ${type}`), { status: 415 });
  }
  const name = typeof fields.name === "string" && fields.name.trim() ? fields.name.trim() : "anonymous";
  const message = typeof fields.message === "string" ? fields.message.trim() : "";
  if (!message) throw badRequest("message is required");
  if (name.length > MAX_NAME) throw badRequest(`name is longer than ${MAX_NAME} characters`);
  if (message.length > MAX_MESSAGE) throw badRequest(`message is longer than ${MAX_MESSAGE} characters`);
  return { name, message };
}

async function entries() {
  await ensureTable();
  const r = await pool.query(
    "SELECT id, name, message, created_at FROM guestbook_entries ORDER BY id DESC LIMIT 100",
  );
  return r.rows.map((e) => ({ id: e.id, name: e.name, message: e.message, createdAt: e.created_at }));
}

function page(list) {
  const items = list
    .map(
      (e) =>
        `<li><strong>${escapeHtml(e.name)}</strong>: ${escapeHtml(e.message)} ` +
        `<small>${escapeHtml(new Date(e.createdAt).toISOString())}</small></li>`,
    )
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(app)} guestbook</title></head>
<body>
<h1>${escapeHtml(app)} guestbook</h1>
<form method="post" action="entries">
  <input name="name" placeholder="Your name" maxlength="${MAX_NAME}">
  <input name="message" placeholder="Message" maxlength="${MAX_MESSAGE}" required>
  <button type="submit">Sign</button>
</form>
<ul id="entries">
${items || "<li>No entries yet.</li>"}
</ul>
<p>Served by Node.js ${escapeHtml(process.version)} on Geartrain; stored in PostgreSQL.</p>
</body></html>
`;
}

async function handle(req, res) {
  const url = new URL(req.url || "/", "http://localhost");
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case "GET /":
    case "HEAD /":
      return send(res, 200, "text/html; charset=utf-8", page(await entries()));
    case "GET /entries.json":
      return sendJson(res, 200, await entries());
    case "POST /entries": {
      const e = await parseEntry(req);
      await ensureTable();
      const r = await pool.query(
        "INSERT INTO guestbook_entries (name, message) VALUES ($1, $2) RETURNING id, created_at",
        [e.name, e.message],
      );
      const entry = { id: r.rows[0].id, ...e, createdAt: r.rows[0].created_at };
      if (String(req.headers.accept || "").includes("text/html")) {
        res.writeHead(303, { location: "./" });
        return res.end();
      }
      return sendJson(res, 201, entry);
    }
    case "GET /health":
      await ensureTable();
      await pool.query("SELECT 1");
      return send(res, 200, "text/plain", "ok\n");
    default:
      return sendJson(res, url.pathname === "/entries" ? 405 : 404, { error: `no route ${route}` });
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    const status = e.status || 503;
    if (status >= 500) console.error(`guestbook: ${req.method} ${req.url}: ${e.message}`);
    if (!res.headersSent)
      sendJson(res, status, { error: status >= 500 ? "database unavailable" : e.message });
    else res.end();
  });
});

server.listen(port, ip, () => {
  console.log(`${app} guestbook listening on ${ip}:${port}`);
  ensureTable().catch((e) =>
    console.error(`guestbook: database not ready yet (${e.message}); retrying on request`),
  );
});
process.on("SIGTERM", () =>
  server.close(() => (pool ? pool.end() : Promise.resolve()).then(() => process.exit(0))),
);
