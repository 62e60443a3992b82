// A private ActiveMQ for a test file: its own directory under os.tmpdir(), STOMP on 127.0.0.1:<free port>,
// one user per role (the broker user, one per node agent, an admin) with generated passwords, started and
// stopped by scripts/services/activemq.sh. With `tls`, the connector is stomp+nio+ssl with a PKCS12 key store
// made from a test certificate (test/helpers/tls-test-cert.ts) in its conf/. Missing prerequisites fail with
// the command that fixes them.

import { execFile } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { agentUser, type ActiveMQSpec } from "../../../common/render/activemq";
import { writeActiveMQInstance } from "../../../services/bus/activemq/instance";
import { freePort } from "../private-nginx";
import { makeKeyStore, type TestCertificate } from "../tls-test-cert";

const execFileP = promisify(execFile);
/** scripts/services/activemq.sh of this checkout (found from test/helpers/services and from dist/ too) */
function scriptPath(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const candidate = path.join(d, "scripts", "services", "activemq.sh");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`scripts/services/activemq.sh not found above ${__dirname}`);
}
const SCRIPT = scriptPath();

export interface BusUser {
  readonly user: string;
  readonly password: string;
}

export interface PrivateActiveMQ {
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  readonly broker: BusUser;
  readonly admin: BusUser;
  /** the agent user of each node identity */
  readonly agents: Readonly<Record<string, BusUser>>;
  /** whether the connector is STOMP over TLS */
  readonly tls: boolean;
  /** every password, for "no secret in the logs" assertions */
  readonly secrets: readonly string[];
  /** the broker's own log and the JVM's output (for failure messages and secret greps) */
  log(): string;
  stop(): Promise<void>;
  /** stop and start again on the same port (clients see the connection drop) */
  restart(): Promise<void>;
  /** stop the broker process, keeping its directory (up() starts it again) */
  down(): Promise<void>;
  up(): Promise<void>;
}

async function script(cmd: "start" | "stop", dir: string): Promise<void> {
  try {
    await execFileP(SCRIPT, [cmd, dir], { env: { ...process.env, ACTIVEMQ_HEAP: "128M" } });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`activemq.sh ${cmd} ${dir} failed: ${err.stderr?.trim() || err.message}`);
  }
}

function password(): string {
  return randomBytes(18).toString("base64url");
}

/** STOMP over TLS: the broker's certificate (and its key), and the CA that signed it (put in the chain). */
export interface ActiveMQTls {
  readonly certificate: TestCertificate;
  readonly ca?: TestCertificate;
}

/** Start a private ActiveMQ with an agent user for each node identity (over TLS with `tls`). */
export async function startActiveMQ(opts: {
  nodes: string[];
  name?: string;
  tls?: ActiveMQTls;
}): Promise<PrivateActiveMQ> {
  if (!existsSync("/usr/share/activemq/bin/activemq.jar"))
    throw new Error("Debian's activemq is missing. Fix: apt-get update && apt-get install -y activemq");
  const dir = mkdtempSync(path.join(os.tmpdir(), `gt-amq-${opts.name ?? "test"}-`));
  const port = await freePort();
  const broker = { user: "broker", password: password() };
  const admin = { user: "admin", password: password() };
  const agents: Record<string, BusUser> = {};
  for (const n of opts.nodes) agents[n] = { user: agentUser(n), password: password() };
  const keyStore = path.join(dir, "conf", "keystore.p12");
  const keyStorePassword = opts.tls ? password() : undefined;
  const spec: ActiveMQSpec = {
    address: "127.0.0.1",
    port,
    users: { broker: broker.user, admin: admin.user },
    nodes: opts.nodes,
    tls: opts.tls ? { keyStore } : null,
  };
  const passwords: Record<string, string> = { [broker.user]: broker.password, [admin.user]: admin.password };
  for (const a of Object.values(agents)) passwords[a.user] = a.password;
  try {
    writeActiveMQInstance(dir, spec, passwords, keyStorePassword);
    if (opts.tls) await makeKeyStore(opts.tls.certificate, keyStore, keyStorePassword!, opts.tls.ca);
    await script("start", dir);
  } catch (e) {
    await script("stop", dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true }); // a failed start leaves nothing behind
    throw e;
  }
  let stopped = false;
  return {
    dir,
    host: "127.0.0.1",
    port,
    broker,
    admin,
    agents,
    tls: opts.tls !== undefined,
    secrets: [...Object.values(passwords), ...(keyStorePassword ? [keyStorePassword] : [])],
    log() {
      const read = (f: string) => {
        try {
          return readFileSync(path.join(dir, f), "utf8");
        } catch {
          return "";
        }
      };
      return read("data/activemq.log") + read("activemq.out");
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await script("stop", dir);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await script("stop", dir);
      await script("start", dir);
    },
    down: () => script("stop", dir),
    up: () => script("start", dir),
  };
}
