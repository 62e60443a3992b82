"use strict";
// Starter application of the Geartrain nodejs cartridge. Replace it with your own.
const http = require("http");

const ip = process.env.GEARTRAIN_NODEJS_IP || "127.0.0.1";
const port = Number(process.env.GEARTRAIN_NODEJS_PORT || 8080);
const app = process.env.GEARTRAIN_APP_NAME || "app";
const db = process.env.GEARTRAIN_POSTGRESQL_DB_HOST
  ? `PostgreSQL at ${process.env.GEARTRAIN_POSTGRESQL_DB_HOST}:${process.env.GEARTRAIN_POSTGRESQL_DB_PORT}`
  : "none";

const server = http.createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!doctype html>\n<title>${app}</title>\n<h1>Welcome to ${app}</h1>\n` +
      `<p>Served by Node.js ${process.version} on Geartrain.</p>\n<p>Database: ${db}</p>\n`,
  );
});

server.listen(port, ip, () => console.log(`${app} listening on ${ip}:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
