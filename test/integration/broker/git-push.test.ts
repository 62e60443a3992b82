// `git push` to the git_url the broker gives: a key added over REST reaches the gear, the node's sshd (a
// private one on 127.0.0.1) serves the push through the forced command, and the change is served through
// nginx. Real PostgreSQL, BIND and node; UIDs 64800-64899 (docs/node-operations.md). The forced command runs
// the built CLI, so dist/ must be fresh (npm run build).

import { execFile } from "child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "fs";
import * as path from "path";
import { NsupdateDnsUpdater } from "../../../services/broker/dns";
import { makeCartridgeNode, type CartridgeTestNode } from "../../node/cartridge-helpers";
import { startBind, type PrivateBind } from "../../helpers/services/bind";
import { api, startTestBroker, type TestBroker } from "../../helpers/services/broker";
import { startPostgres, type TestPostgres } from "../../helpers/services/postgres";
import { keygen, startTestSshd, type TestSshd, GEAR_GIT_SSHD_CONFIG } from "../../helpers/sshd";
import { LocalNode } from "./local-node";

jest.setTimeout(600_000);

const REPO = path.resolve(__dirname, "../../..");
const ZONE = "apps.geartrain.test";
const PW = "carol-secret-Pw-8001";
const carol = `Basic ${Buffer.from(`carol:${PW}`).toString("base64")}`;

let pg: TestPostgres;
let bind: PrivateBind;
let node: CartridgeTestNode;
let broker: TestBroker;
let sshd: TestSshd;
let tmp: string;
let key: string;
const savedConfigEnv = process.env.GEARTRAIN_NODE_CONFIG;

function requireFreshDist(): void {
  const built = path.join(REPO, "dist/node/deploy/shell.js");
  if (!existsSync(built)) throw new Error("dist/ is missing. Fix: npm run build");
  const t = statSync(built).mtimeMs;
  for (const f of readdirSync(path.join(REPO, "node"), { recursive: true }) as string[])
    if (f.endsWith(".ts") && statSync(path.join(REPO, "node", f)).mtimeMs > t)
      throw new Error(`dist/ is older than node/${f}. Fix: npm run build`);
}

function run(argv: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      argv[0],
      argv.slice(1),
      {
        cwd,
        timeout: 240_000,
        env: {
          PATH: "/usr/bin:/bin",
          HOME: tmp,
          LANG: "C.UTF-8",
          // the git_url names the node's public host name; this test's sshd is on 127.0.0.1
          GIT_SSH_COMMAND: `ssh -i ${key} -o BatchMode=yes -o HostName=127.0.0.1 -o StrictHostKeyChecking=yes -o HostKeyAlias=gt-test-node -o UserKnownHostsFile=${path.join(tmp, "known_hosts")}`,
          GIT_AUTHOR_NAME: "Carol",
          GIT_AUTHOR_EMAIL: "carol@example.com",
          GIT_COMMITTER_NAME: "Carol",
          GIT_COMMITTER_EMAIL: "carol@example.com",
          GIT_CONFIG_NOSYSTEM: "1",
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 255) : 0, out: stdout + stderr }),
    );
  });
}

beforeAll(async () => {
  requireFreshDist();
  pg = await startPostgres();
  bind = await startBind({ zone: ZONE });
  node = await makeCartridgeNode("bgit", 64800, { config: { cloudDomain: ZONE } });
  // the forced command of keys the node adds names this node's config (node/deploy/ssh-keys.ts)
  process.env.GEARTRAIN_NODE_CONFIG = node.configPath;
  tmp = mkdtempSync("/tmp/gt-test-bgit-client-");
  key = path.join(tmp, "id_ed25519");
  keygen(key, "ed25519", "carol@laptop");
  sshd = await startTestSshd({ config: GEAR_GIT_SSHD_CONFIG });
  const hostKey = sshd.knownHostsLine.split(" ").slice(1).join(" ");
  writeFileSync(path.join(tmp, "known_hosts"), `gt-test-node ${hostKey}\n`);
  const local = new LocalNode("bgit-node", node.ctx, {
    profile: "small",
    maxActiveGears: 10,
    publicHostname: `bgit.${ZONE}`,
  });
  broker = await startTestBroker({
    db: pg.connection,
    bus: local,
    dns: new NsupdateDnsUpdater(bind.nsupdateConfig()),
    config: { cloudDomain: ZONE, sshPort: sshd.port },
  });
  await local.report(broker.db);
  const root = await broker.makeUser("root", "root-secret-Pw-8000", "admin");
  expect(
    (
      await api(broker, "POST", "/admin/districts", root, {
        name: "d1",
        gear_profile: "small",
        first_uid: 64800,
        capacity: 100,
      })
    ).status,
  ).toBe(201);
  expect((await api(broker, "POST", "/admin/district/d1/nodes", root, { node: "bgit-node" })).status).toBe(
    200,
  );
  expect((await api(broker, "POST", "/admin/users", root, { login: "carol", password: PW })).status).toBe(
    201,
  );
  expect((await api(broker, "POST", "/domains", carol, { id: "ns1" })).status).toBe(201);
});

afterAll(async () => {
  if (savedConfigEnv === undefined) delete process.env.GEARTRAIN_NODE_CONFIG;
  else process.env.GEARTRAIN_NODE_CONFIG = savedConfigEnv;
  await broker?.stop();
  await sshd?.stop();
  await node?.cleanup();
  await bind?.stop();
  await pg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("a key added over REST lets git push to the app's git_url deploy a change, served through nginx", async () => {
  const created = await api(broker, "POST", "/domain/ns1/applications", carol, {
    name: "pushme",
    cartridges: ["nodejs-20"],
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body.messages));
  const gitUrl = created.body.data.git_url as string;
  expect(gitUrl).toBe(`ssh://${created.body.data.id}@bgit.${ZONE}:${sshd.port}/~/git/pushme.git/`);
  // without a key the push is refused; the key added after the app exists reaches its gear
  const work = path.join(tmp, "pushme");
  expect((await run(["git", "clone", gitUrl, work], tmp)).code).not.toBe(0);
  const [type, content] = (await import("fs")).readFileSync(`${key}.pub`, "utf8").trim().split(" ");
  expect((await api(broker, "POST", "/user/keys", carol, { name: "laptop", type, content })).status).toBe(
    201,
  );
  const clone = await run(["git", "clone", gitUrl, work], tmp);
  expect(clone).toMatchObject({ code: 0 });
  writeFileSync(
    path.join(work, "server.js"),
    `const http = require("http");
http
  .createServer((req, res) => res.end("pushed through the broker\\n"))
  .listen(Number(process.env.GEARTRAIN_NODEJS_PORT), process.env.GEARTRAIN_NODEJS_IP);
`,
  );
  expect((await run(["git", "add", "-A"], work)).code).toBe(0);
  expect(await run(["git", "commit", "-q", "-m", "v2"], work)).toMatchObject({ code: 0 });
  const push = await run(["git", "push", "origin", "master"], work);
  expect(push.out).toMatch(/remote: geartrain: deployed/);
  expect(push.code).toBe(0);
  const page = await node.viaNginx(`pushme-ns1.${ZONE}`);
  expect([page.status, page.body]).toEqual([200, "pushed through the broker\n"]);
  // the key removed over REST leaves the gear: the next push is refused
  expect((await api(broker, "DELETE", "/user/keys/laptop", carol)).status).toBe(200);
  expect((await run(["git", "push", "origin", "master"], work)).code).not.toBe(0);
  expect((await api(broker, "DELETE", "/domain/ns1/application/pushme", carol)).status).toBe(200);
});
