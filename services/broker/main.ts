// The broker's process entry: config file → PostgreSQL pool (migrations first), the node bus, DNS, the
// application service and the REST API on fastify; abandoned pending operations are resumed at start-up and
// then every lease period. `geartrain broker run --config FILE` (cli.ts) runs it until SIGTERM or SIGINT.
// Logs are JSON lines on stderr (fastify's pino, credentials redacted); the first stdout line is
// `{"listening": "<url>", "local"?: "<listen.local url>", "brokerId": "..."}` for supervisors and tests.

import { randomBytes } from "crypto";
import type { FastifyInstance } from "fastify";
import { busTlsOptions } from "../bus/ca-file";
import { NodeBus } from "../bus/node-bus";
import { NsupdateDnsUpdater, parseTsigKeyFile } from "./dns";
import { BrokerService } from "./app/service";
import type { ServiceLog } from "./app/ports";
import {
  loadBrokerConfig,
  readCertificateFile,
  readPrivateKeyFile,
  readSecretFile,
  type BrokerConfig,
} from "./config";
import { buildServer } from "./rest/server";
import { nodes, openStore, users, type Db } from "./store";

export interface RunningBroker {
  readonly url: string;
  /** listen.local's plain HTTP URL on loopback, when configured */
  readonly localUrl?: string;
  readonly brokerId: string;
  readonly service: BrokerService;
  stop(): Promise<void>;
}

function jsonLog(level: number, obj: Record<string, unknown>, msg: string): void {
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), ...obj, msg })}\n`);
}

const serviceLog: ServiceLog = {
  info: (o, m) => jsonLog(30, o, m),
  warn: (o, m) => jsonLog(40, o, m),
  error: (o, m) => jsonLog(50, o, m),
};

async function ensureAdmin(db: Db, cfg: BrokerConfig): Promise<void> {
  if (!cfg.admin) return;
  if (await users.getUserByLogin(db, cfg.admin.login)) return;
  const password = readSecretFile(cfg.admin.passwordFile, "admin.passwordFile");
  await users.createUser(db, { login: cfg.admin.login, password, role: "admin" });
  serviceLog.info({ login: cfg.admin.login }, "created the bootstrap admin");
}

export async function startBroker(cfg: BrokerConfig): Promise<RunningBroker> {
  const brokerId = cfg.brokerId ?? `b-${randomBytes(6).toString("hex")}`;
  const dbPassword = readSecretFile(cfg.database.passwordFile, "database.passwordFile");
  const busPassword = readSecretFile(cfg.bus.passwordFile, "bus.passwordFile");
  const busTls = busTlsOptions(cfg.bus.tls);
  const key = parseTsigKeyFile(readSecretFile(cfg.dns.keyFile, "dns.keyFile", true), "dns.keyFile");
  const https = cfg.listen.tls && {
    cert: readCertificateFile(cfg.listen.tls.certificateFile, "listen.tls.certificateFile"),
    key: readPrivateKeyFile(cfg.listen.tls.keyFile, "listen.tls.keyFile"),
  };
  const silenceMs = cfg.silenceMs ?? 90_000;
  const leaseMs = cfg.leaseMs ?? 60_000;

  const db = await openStore({
    host: cfg.database.host,
    port: cfg.database.port,
    database: cfg.database.database,
    user: cfg.database.user,
    password: dbPassword,
    max: cfg.database.poolSize ?? 10,
    applicationName: `geartrain-broker-${brokerId}`,
  });
  let bus: NodeBus | null = null;
  let app: FastifyInstance | null = null;
  let localApp: FastifyInstance | null = null;
  let timer: NodeJS.Timeout | null = null;
  try {
    await ensureAdmin(db, cfg);
    bus = await NodeBus.connect({
      host: cfg.bus.host,
      port: cfg.bus.port,
      user: cfg.bus.user,
      password: busPassword,
      ...(busTls ? { tls: busTls } : {}),
      brokerId,
      ...(cfg.bus.prefix ? { prefix: cfg.bus.prefix } : {}),
      silenceMs,
      timeoutMs: cfg.nodeTimeoutMs ?? 60_000,
      log: (level, message) => jsonLog(level === "error" ? 50 : level === "warn" ? 40 : 30, {}, message),
    });
    bus.onFacts((f) => {
      nodes
        .recordFacts(db, f)
        .catch((err) =>
          serviceLog.warn({ node: f.node, error: (err as Error).message }, "facts not recorded"),
        );
    });
    const dns = new NsupdateDnsUpdater({
      server: cfg.dns.server,
      port: cfg.dns.port,
      zone: cfg.dns.zone,
      key,
    });
    const service = new BrokerService({
      db,
      bus,
      dns,
      log: serviceLog,
      leaseMs,
      config: {
        cloudDomain: cfg.cloudDomain,
        brokerId,
        defaultProfile: cfg.defaultProfile ?? "small",
        nodeTimeoutMs: cfg.nodeTimeoutMs ?? 60_000,
        cartridgeTimeoutMs: cfg.cartridgeTimeoutMs ?? 300_000,
        sshPort: cfg.sshPort ?? 22,
        silenceMs,
      },
    });
    const serverOptions = {
      service,
      logger: { level: cfg.logLevel ?? "info", stream: process.stderr },
      ...(cfg.publicUrl ? { publicUrl: cfg.publicUrl } : {}),
      ...(cfg.bodyLimit ? { bodyLimit: cfg.bodyLimit } : {}),
      ...(cfg.realm ? { realm: cfg.realm } : {}),
    };
    app = await buildServer({ ...serverOptions, ...(https ? { https } : {}) });
    const url = await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
    // the same API in plain HTTP on loopback, for tools on this host (listen.local); the schema allows
    // 127.0.0.0/8 addresses only
    let localUrl: string | undefined;
    if (cfg.listen.local) {
      localApp = await buildServer(serverOptions);
      localUrl = await localApp.listen({ host: cfg.listen.local.host, port: cfg.listen.local.port });
    }
    let resuming = false;
    const resume = async () => {
      if (resuming) return;
      resuming = true;
      try {
        const done = await service.chains.resumeAbandoned();
        for (const r of done)
          serviceLog.info(
            { op: r.op.id, kind: r.op.kind, state: r.state },
            "pending operation finished after resume",
          );
      } catch (err) {
        serviceLog.error({ error: (err as Error).message }, "resuming pending operations failed");
      } finally {
        resuming = false;
      }
    };
    void resume();
    timer = setInterval(() => void resume(), leaseMs);
    timer.unref();
    const stopApp = app;
    const stopLocal = localApp;
    const stopBus = bus;
    return {
      url,
      ...(localUrl !== undefined ? { localUrl } : {}),
      brokerId,
      service,
      async stop() {
        if (timer) clearInterval(timer);
        await stopLocal?.close();
        await stopApp.close();
        await stopBus.close();
        await db.close();
      },
    };
  } catch (err) {
    if (timer) clearInterval(timer);
    await localApp?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await bus?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}

/** Run the broker of `configFile` until SIGTERM or SIGINT; resolves with the exit code. */
export async function runBroker(configFile: string): Promise<number> {
  const broker = await startBroker(loadBrokerConfig(configFile));
  const local = broker.localUrl !== undefined ? { local: broker.localUrl } : {};
  process.stdout.write(`${JSON.stringify({ listening: broker.url, ...local, brokerId: broker.brokerId })}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await broker.stop();
  return 0;
}
