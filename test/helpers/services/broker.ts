// A broker for tests: the application service over a private PostgreSQL (migrated), a NodeCaller (the real
// NodeBus, or an in-process one) and a DnsPort (the real NsupdateDnsUpdater against a private BIND), served
// by the REST layer on 127.0.0.1:<free port>. Its log lines are kept for the "no secret in the log" checks.

import { Writable } from "stream";
import type { FastifyInstance } from "fastify";
import { BrokerService } from "../../../services/broker/app/service";
import type { DnsPort, NodeCaller, ServiceConfig } from "../../../services/broker/app/ports";
import { buildServer } from "../../../services/broker/rest/server";
import { openStore, users, type Db, type DbConfig } from "../../../services/broker/store";

export interface TestBroker {
  readonly url: string;
  readonly db: Db;
  readonly service: BrokerService;
  readonly app: FastifyInstance;
  /** every log line so far (JSON, one per line) */
  log(): string;
  /** Basic auth header of a user made directly in the store */
  makeUser(login: string, password: string, role?: "user" | "admin"): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestBroker(opts: {
  db: DbConfig;
  bus: NodeCaller;
  dns: DnsPort;
  config?: Partial<ServiceConfig>;
}): Promise<TestBroker> {
  const db = await openStore(opts.db);
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const serviceLog = {
    info: (o: Record<string, unknown>, m: string) =>
      lines.push(JSON.stringify({ level: 30, ...o, msg: m }) + "\n"),
    warn: (o: Record<string, unknown>, m: string) =>
      lines.push(JSON.stringify({ level: 40, ...o, msg: m }) + "\n"),
    error: (o: Record<string, unknown>, m: string) =>
      lines.push(JSON.stringify({ level: 50, ...o, msg: m }) + "\n"),
  };
  const service = new BrokerService({
    db,
    bus: opts.bus,
    dns: opts.dns,
    log: serviceLog,
    config: {
      cloudDomain: "apps.geartrain.test",
      brokerId: `test-${process.pid}`,
      defaultProfile: "small",
      nodeTimeoutMs: 60_000,
      cartridgeTimeoutMs: 300_000,
      sshPort: 22,
      // the tests' nodes report their facts once (LocalNode.report), not every 30 s
      silenceMs: 3_600_000,
      ...opts.config,
    },
  });
  const app = await buildServer({ service, logger: { level: "info", stream } });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    db,
    service,
    app,
    log: () => lines.join(""),
    async makeUser(login, password, role = "user") {
      await users.createUser(db, { login, password, role });
      return `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`;
    },
    async stop() {
      await app.close();
      await db.close();
    },
  };
}

/** fetch + JSON for the API: the OpenShift media type both ways. */
export async function api(
  b: { url: string },
  method: string,
  path: string,
  auth: string | null,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reply JSON, read by the tests
): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const headers: Record<string, string> = { accept: "application/json;version=1.7" };
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json;version=1.7";
  const r = await fetch(`${b.url}/broker/rest${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}
