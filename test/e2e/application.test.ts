// The Application component and its BrokerApp provider through the real engine against the real control plane
// (test/helpers/services/control-plane.ts: PostgreSQL, ActiveMQ, BIND, a broker process, and two nodes on
// this machine, each with its private nginx and agent: `papps` alone in district d1 (small, UIDs
// 65000-65099) and `pappsm` alone in district d2 (medium, UIDs 65100-65199); the test's block is
// 65000-65199). One deployment serves every assertion: `up` → the page through the node's nginx by its DNS
// name; a second preview is clean; drift made by hand on the node (memory limit, a stopped cartridge, the
// route removed) → `preview --refresh` shows exactly those, `up --refresh` repairs them; the profile changed
// to medium → the preview shows a replacement of the app only, the engine deletes the old app before it
// creates the new one (the broker refuses a second app of one name in a domain), `up` replaces it: the new
// gear is on d2's node with medium's limits (the broker's live state and the node's inspect), the old
// gear and route are gone from d1's node, the page is served by the new node at the DNS name (now a CNAME to
// it), the next previews are clean and `geartrain check` and `geartrain node check` of d1's node find
// nothing; the app stays medium for the rest: deleted outside Pulumi → `refresh` drops it, `up` re-creates
// it; `destroy` removes app, route, DNS record, gear and the domain (a BrokerDomain), after which
// `geartrain check` (broker records against both nodes and DNS) and `geartrain node check` of each node are
// clean; the broker token and password and the app's secret variable appear nowhere in the state or the
// CLI's output. Needs dist/ built (the provider runs compiled code; the checks run bin/geartrain):
// `npm run build`.

import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { BrokerClient } from "../../clients/broker";
import { DEFAULT_PROFILES } from "../../node/config";
import {
  controlCartridge,
  inspectGear,
  readGearFrontend,
  removeGearFrontend,
  type CheckReport,
} from "../../node";
import { operationsModule } from "../../providers/application";
import { dig } from "../helpers/services/bind";
import { startControlPlane, type ControlPlane } from "../helpers/services/control-plane";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import type { CartridgeTestNode } from "../node/cartridge-helpers";
import { cli } from "../node/helpers";

jest.setTimeout(15 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/application");
const NODE = "papps";
/** the second node, in district d2 (medium) */
const NODE2 = "pappsm";
const UIDS2 = { first: 65100, last: 65199 };
const ADMIN_PW = "admin-secret-Pw-8101";
const DEV_PW = "dev-secret-Pw-8102-zq";
const API_KEY = "gt-app-secret-value-5e1d7c";
/** made by the stack (BrokerDomain); the set-up's own domain ns1 stays unused */
const DOMAIN = "team1";
const BROKER_APP = "pulumi-nodejs:dynamic/geartrain:BrokerApp";

let cp: ControlPlane;
let sandbox: PulumiSandbox;
let token: string;
let client: BrokerClient;
/** the node that has the app's gear: d1's until the profile changes to medium */
let serving: CartridgeTestNode;
/** GEARTRAIN_HOME of the admin's `geartrain login` (for `geartrain check`) */
let adminHome: string;
/** every CLI output of the test, for the leak check */
const outputs: string[] = [];

function pulumi(args: string[]): string {
  const r = sandbox.ok(args);
  outputs.push(r.stdout + r.stderr);
  return r.stdout + r.stderr;
}

beforeAll(async () => {
  requireToolchain();
  const ops = operationsModule(path.join(PROJECT_ROOT, "providers/application"), ".ts");
  if (!existsSync(ops)) throw new Error(`${ops} is missing: run \`npm run build\` first`);
  cp = await startControlPlane({
    node: NODE,
    uidBase: 65000,
    // its own process: the engine runs under spawnSync, which blocks this one
    agent: "process",
    adminPassword: ADMIN_PW,
    developer: { login: "dev", password: DEV_PW, domain: "ns1" },
    secondNode: { node: NODE2, uidBase: UIDS2.first, profile: "medium" },
  });
  serving = cp.node;
  const server = cp.brokers[0].url;
  const basic = new BrokerClient({ server, credentials: { login: "dev", password: DEV_PW } });
  token = (await basic.addAuthorization({ scope: "session", note: "e2e" })).token!;
  client = basic.withCredentials({ token });
  adminHome = mkdtempSync(path.join(os.tmpdir(), "gt-e2e-apps-admin-"));
  writeFileSync(path.join(adminHome, "admin.password"), ADMIN_PW, { mode: 0o600 });
  const login = geartrain([
    "login",
    "--server",
    server,
    "--login",
    "admin",
    "--password-file",
    path.join(adminHome, "admin.password"),
  ]);
  if (login.status !== 0) throw new Error(`geartrain login: ${login.stderr}`);
  sandbox = new PulumiSandbox("apps", undefined, PROJECT);
  sandbox.init();
  sandbox.ok(["config", "set", "server", server]);
  sandbox.ok(["config", "set", "domain", DOMAIN]);
  sandbox.ok(["config", "set", "--secret", "token", token]);
  sandbox.ok(["config", "set", "--secret", "apiKey", API_KEY]);
}, 600_000);

afterAll(async () => {
  if (sandbox) {
    sandbox.run(["destroy", "--yes", "--skip-preview"]);
    sandbox.cleanup();
  }
  await cp?.stop();
  if (adminHome) rmSync(adminHome, { recursive: true, force: true });
});

const FQDN = () => `web1-${DOMAIN}.${cp.zone}`;

async function page(): Promise<{ status: number; body: string }> {
  return serving.viaNginx(FQDN());
}

/** The built `geartrain` as the admin logged in above (its output kept for the leak check). */
function geartrain(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "bin/geartrain"), ...args], {
    env: { ...process.env, GEARTRAIN_HOME: adminHome },
    encoding: "utf8",
    timeout: 120_000,
  });
  outputs.push(r.stdout + r.stderr);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `geartrain check --dns-server <BIND>`: the broker's gear records against both nodes and DNS. */
function brokerCheck(): { status: number | null; report: unknown } {
  const r = geartrain(["check", "--json", "--dns-server", `${cp.bind.server}:${cp.bind.port}`]);
  return { status: r.status, report: JSON.parse(r.stdout) };
}

/** `geartrain node check` of a node (its config), as the exit code and its failures. */
async function nodeCheck(n: CartridgeTestNode): Promise<{ code: number; failures: unknown; gears: number }> {
  const r = await cli(n, ["check"]);
  const report = r.json as CheckReport | null;
  if (!report) throw new Error(`geartrain node check printed no report: ${r.stderr}`);
  return { code: r.code, failures: report.failures, gears: report.node.gears };
}

/** The memory and pids limits among a gear's cgroup values (v1 or v2 file names). */
function limits(values: Readonly<Record<string, string | null>>): { memory: string; pids: string } {
  const pick = (re: RegExp) => {
    const keys = Object.keys(values).filter((k) => re.test(k));
    if (keys.length !== 1)
      throw new Error(`expected one cgroup value matching ${re}, got ${keys.join(", ")}`);
    return values[keys[0]] ?? "null";
  };
  return { memory: pick(/\/memory\.(limit_in_bytes|max)$/), pids: pick(/\/pids\.max$/) };
}

/** The update/replace/create/delete counts of a preview's or up's summary. */
function counts(out: string): Record<string, number> {
  const c: Record<string, number> = {};
  for (const m of out.matchAll(/(\d+) to (create|update|replace|delete)/g)) c[m[2]] = Number(m[1]);
  // "+ 1 created", "+-1 replaced"
  for (const m of out.matchAll(/^\s*[~+-]+\s*(\d+) (created|updated|replaced|deleted)/gm))
    c[m[2]] = Number(m[1]);
  return c;
}

test("up serves the app through the node's nginx by its DNS name; a second preview is clean", async () => {
  pulumi(["up", "--yes", "--skip-preview"]);
  const out = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout);
  expect(out.fqdn).toBe(FQDN());
  expect(out.appUrl).toBe(`http://${FQDN()}/`);
  expect(out.gitUrl).toMatch(new RegExp(`^ssh://${out.appId}@${NODE}\\.`));
  const p = await page();
  expect([p.status, p.body]).toEqual([200, expect.stringMatching(/Welcome to web1/)]);
  expect(await dig(cp.bind, FQDN(), "CNAME")).toEqual([`${cp.nodeHost}.`]);
  const env = Object.fromEntries((await client.listEnv(DOMAIN, "web1")).map((v) => [v.name, v.value]));
  expect(env).toEqual({ GREETING: "hello", API_KEY });
  pulumi(["preview", "--expect-no-changes"]);
  pulumi(["preview", "--refresh", "--expect-no-changes"]);
});

test("drift by hand (memory limit, a stopped cartridge, no route): preview --refresh shows it, up --refresh repairs it", async () => {
  const uuid = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout).appId as string;
  const g = await inspectGear(cp.node.ctx, uuid);
  const memDir = g.cgroup.paths.find((d) => /\/memory\//.test(d) && !/unified/.test(d));
  const file = memDir
    ? path.join(memDir, "memory.limit_in_bytes")
    : path.join(g.cgroup.paths[0], "memory.max");
  writeFileSync(file, String(128 * 1024 * 1024));
  const web = g.cartridges.find((c) => c.name.startsWith("nodejs"))!;
  expect((await controlCartridge(cp.node.ctx, uuid, web.name, "stop")).ok).toBe(true);
  await removeGearFrontend(cp.node.ctx, uuid);
  expect((await page()).status).not.toBe(200);

  const preview = pulumi(["preview", "--refresh", "--diff"]);
  expect(counts(preview)).toMatchObject({ update: 1 });
  expect(counts(preview).replace ?? 0).toBe(0);
  expect(preview).toMatch(/memory[^\n]*expected \d+, actual 134217728/);
  expect(preview).toMatch(/"?nodejs-20"?\s*:\s*"stopped"\s*=>\s*"started"/);
  expect(preview).toMatch(/routed\s*:\s*false\s*=>\s*true/);
  // nothing else changed: the update's changed lines are `observed` and what is under it
  const update = preview.slice(preview.indexOf("BrokerApp: (update)"), preview.indexOf("Resources:"));
  const changed = [...update.matchAll(/^\s*[~+-]\s+(\S+?)\s*:/gm)].map((m) => m[1]);
  expect(changed).toEqual(["observed", "cartridges", "nodejs-20", "drift", "[0]", "routed"]);

  pulumi(["up", "--refresh", "--yes", "--skip-preview"]);
  const after = await inspectGear(cp.node.ctx, uuid);
  expect(after.drift).toEqual([]);
  expect(after.cartridges.map((c) => c.status)).toEqual(after.cartridges.map(() => "started"));
  expect((await readGearFrontend(cp.node.ctx, uuid))?.hostnames).toContain(FQDN());
  expect((await page()).status).toBe(200);
  pulumi(["preview", "--refresh", "--expect-no-changes"]);
});

test("a profile change replaces the app only, the old one deleted first: the new gear is medium on d2's node and serves", async () => {
  const old = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout).appId as string;
  const small = DEFAULT_PROFILES.small;
  expect(limits((await inspectGear(cp.node.ctx, old)).cgroup.values)).toEqual({
    memory: String(small.memoryBytes),
    pids: String(small.pids),
  });
  sandbox.ok(["config", "set", "profile", "medium"]);
  const preview = pulumi(["preview", "--diff"]);
  expect(counts(preview)).toEqual({ replace: 1 });
  expect(preview).toMatch(/\+-\s*pulumi-nodejs:dynamic\/geartrain:BrokerApp: \(replace\)/);
  expect(preview).toMatch(/gearProfile\s*:\s*"small"\s*=>\s*"medium"/);
  // delete before replace (the provider's diff asks for it): the broker refuses a second web1 in team1, so
  // the engine must delete the old app before it creates the new one, not after (its event log's steps)
  const log = path.join(sandbox.dir, "replace-events.jsonl");
  const up = sandbox.run(["up", "--yes", "--skip-preview", "--event-log", log], {
    env: { PULUMI_DEBUG_COMMANDS: "true" },
  });
  outputs.push(up.stdout + up.stderr);
  if (up.code !== 0) throw new Error(`pulumi up exited ${up.code}\n${up.stdout}\n${up.stderr}`);
  expect(counts(up.stdout)).toMatchObject({ replaced: 1 });
  const steps = readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { resourcePreEvent?: { metadata: { op: string; urn: string } } })
    .flatMap((e) =>
      e.resourcePreEvent?.metadata.urn.includes(`${BROKER_APP}::`) ? [e.resourcePreEvent.metadata.op] : [],
    );
  expect(steps).toEqual(["delete-replaced", "replace", "create-replacement"]);
  const out = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout);
  const uuid = out.appId as string;
  expect(uuid).not.toBe(old);
  expect(out.fqdn).toBe(FQDN());
  expect(out.gitUrl).toMatch(new RegExp(`^ssh://${uuid}@${NODE2}\\.`));
  // the old gear and its route are gone from d1's node
  await expect(inspectGear(cp.node.ctx, old)).rejects.toMatchObject({ kind: "not_found" });
  expect(await readGearFrontend(cp.node.ctx, old)).toBeNull();
  // the broker: one gear, medium, on d2's node, a UID of d2's block, as its node reports it
  const medium = DEFAULT_PROFILES.medium;
  const want = { memory: String(medium.memoryBytes), pids: String(medium.pids) };
  const live = await client.liveState(DOMAIN, "web1");
  expect(live.gear_profile).toBe("medium");
  expect(live.gears.map((g) => [g.id, g.node, g.present, g.gear_profile, g.drift])).toEqual([
    [uuid, NODE2, true, "medium", []],
  ]);
  expect(live.gears[0].uid).toBeGreaterThanOrEqual(UIDS2.first);
  expect(live.gears[0].uid).toBeLessThanOrEqual(UIDS2.last);
  expect(limits(live.gears[0].cgroup)).toEqual(want);
  // the node itself: the gear's spec and its cgroup limits are medium's
  const g = await inspectGear(cp.second!.node.ctx, uuid);
  expect([g.uid, g.spec?.profile, g.drift]).toEqual([live.gears[0].uid, "medium", []]);
  expect(limits(g.cgroup.values)).toEqual(want);
  // served by the new node at its DNS name, now a CNAME to that node; no longer by d1's node
  serving = cp.second!.node;
  const p = await page();
  expect([p.status, p.body]).toEqual([200, expect.stringMatching(/Welcome to web1/)]);
  expect((await cp.node.viaNginx(FQDN())).status).not.toBe(200);
  expect(await dig(cp.bind, FQDN(), "CNAME")).toEqual([`${cp.second!.nodeHost}.`]);
  const env = Object.fromEntries((await client.listEnv(DOMAIN, "web1")).map((v) => [v.name, v.value]));
  expect(env).toEqual({ GREETING: "hello", API_KEY });
  pulumi(["preview", "--expect-no-changes"]);
  pulumi(["preview", "--refresh", "--expect-no-changes"]);
  // the broker's records agree with both nodes and DNS; d1's node has nothing left of the old gear
  expect(brokerCheck()).toEqual({
    status: 0,
    report: expect.objectContaining({
      ok: true,
      findings: [],
      checked: { gears: 1, nodes: 2, dnsRecords: 1 },
    }),
  });
  expect(await nodeCheck(cp.node)).toEqual({ code: 0, failures: [], gears: 0 });
  // the profile stays medium: the tests below run on d2's node
});

test("deleted outside Pulumi: refresh drops it, up re-creates it", async () => {
  await client.deleteApplication(DOMAIN, "web1");
  const refresh = pulumi(["refresh", "--yes", "--skip-preview"]);
  expect(refresh).toMatch(/deleted/);
  const state = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
  const types = state.deployment.resources.map((r: { type: string }) => r.type);
  expect(types).not.toContain("pulumi-nodejs:dynamic/geartrain:BrokerApp");
  const up = pulumi(["up", "--yes", "--skip-preview"]);
  expect(counts(up)).toMatchObject({ created: 1 });
  expect((await page()).status).toBe(200);
  pulumi(["preview", "--expect-no-changes"]);
});

test("the token, the password and the secret variable are nowhere in state or output; the provider is small", () => {
  const state = sandbox.ok(["stack", "export"]).stdout;
  for (const [what, text] of Object.entries({ state, outputs: outputs.join("\n") })) {
    for (const secret of [token, DEV_PW, API_KEY])
      expect({ what, leaks: text.includes(secret) }).toEqual({ what, leaks: false });
  }
  const app = JSON.parse(state).deployment.resources.find(
    (r: { type: string }) => r.type === "pulumi-nodejs:dynamic/geartrain:BrokerApp",
  );
  // connection and env are secrets in inputs and outputs
  for (const props of [app.inputs, app.outputs]) {
    expect(props.connection).toHaveProperty("4dabf18193072939515e22adb298388d");
    expect(props.env).toHaveProperty("4dabf18193072939515e22adb298388d");
  }
  // the provider references its compiled module by path: a few KB, no client code
  expect(app.outputs.__provider.length).toBeLessThan(4000);
  expect(app.outputs.__provider).toContain("operations.js");
  const domain = JSON.parse(state).deployment.resources.find(
    (r: { type: string }) => r.type === "pulumi-nodejs:dynamic/geartrain:BrokerDomain",
  );
  expect(domain.outputs.connection).toHaveProperty("4dabf18193072939515e22adb298388d");
  expect(domain.outputs.name).toBe(DOMAIN);
  const decrypted = sandbox.ok(["stack", "export", "--show-secrets"]).stdout;
  expect(decrypted).toContain(API_KEY);
});

test("destroy removes the app, its route, its DNS record, its gear and the domain; geartrain check and node check are clean", async () => {
  const uuid = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout).appId as string;
  expect(serving).toBe(cp.second!.node);
  expect((await inspectGear(serving.ctx, uuid)).uuid).toBe(uuid);
  pulumi(["destroy", "--yes", "--skip-preview"]);
  await expect(client.application(DOMAIN, "web1")).rejects.toMatchObject({ kind: "not_found" });
  await expect(client.domain(DOMAIN)).rejects.toMatchObject({ kind: "not_found" });
  expect(await readGearFrontend(serving.ctx, uuid)).toBeNull();
  expect(await dig(cp.bind, FQDN(), "CNAME")).toEqual([]);
  await expect(inspectGear(serving.ctx, uuid)).rejects.toMatchObject({ kind: "not_found" });
  expect(brokerCheck()).toEqual({
    status: 0,
    report: expect.objectContaining({
      ok: true,
      findings: [],
      checked: { gears: 0, nodes: 2, dnsRecords: 0 },
    }),
  });
  for (const n of [cp.node, cp.second!.node])
    expect({ node: n.config.gearBaseDir, ...(await nodeCheck(n)) }).toEqual({
      node: n.config.gearBaseDir,
      code: 0,
      failures: [],
      gears: 0,
    });
});
