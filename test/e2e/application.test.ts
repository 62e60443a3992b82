// The Application component and its BrokerApp provider through the real engine against the real control plane
// (test/helpers/services/control-plane.ts: PostgreSQL, ActiveMQ, BIND, a node with its private nginx and
// agent, a broker process). One deployment serves every assertion: `up` → the page through the node's nginx
// by its DNS name; a second preview is clean; drift made by hand on the node (memory limit, a stopped
// cartridge, the route removed) → `preview --refresh` shows exactly those, `up --refresh` repairs them; a
// profile change previews as a replacement of the app only; an app deleted outside Pulumi → `refresh` drops
// it, `up` re-creates it; `destroy` removes app, route, DNS record and the domain (a BrokerDomain); the broker token and password and the
// app's secret variable appear nowhere in the state or the CLI's output. UIDs 65000-65199. Needs dist/ built
// (the provider runs compiled code): `npm run build`.

import { existsSync, writeFileSync } from "fs";
import * as path from "path";
import { BrokerClient } from "../../clients/broker";
import { controlCartridge, inspectGear, readGearFrontend, removeGearFrontend } from "../../node";
import { operationsModule } from "../../providers/application";
import { dig } from "../helpers/services/bind";
import { startControlPlane, type ControlPlane } from "../helpers/services/control-plane";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

jest.setTimeout(15 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/application");
const NODE = "papps";
const ADMIN_PW = "admin-secret-Pw-8101";
const DEV_PW = "dev-secret-Pw-8102-zq";
const API_KEY = "gt-app-secret-value-5e1d7c";
/** made by the stack (BrokerDomain); the set-up's own domain ns1 stays unused */
const DOMAIN = "team1";

let cp: ControlPlane;
let sandbox: PulumiSandbox;
let token: string;
let client: BrokerClient;
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
  });
  const server = cp.brokers[0].url;
  const basic = new BrokerClient({ server, credentials: { login: "dev", password: DEV_PW } });
  token = (await basic.addAuthorization({ scope: "session", note: "e2e" })).token!;
  client = basic.withCredentials({ token });
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
});

const FQDN = () => `web1-${DOMAIN}.${cp.zone}`;

async function page(): Promise<{ status: number; body: string }> {
  return cp.node.viaNginx(FQDN());
}

/** The update/replace/create/delete counts of a preview's or up's summary. */
function counts(out: string): Record<string, number> {
  const c: Record<string, number> = {};
  for (const m of out.matchAll(/(\d+) to (create|update|replace|delete)/g)) c[m[2]] = Number(m[1]);
  for (const m of out.matchAll(/^\s*[~+-]+ (\d+) (created|updated|replaced|deleted)/gm))
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

test("a profile change previews as a replacement of the app only", () => {
  sandbox.ok(["config", "set", "profile", "medium"]);
  try {
    const preview = pulumi(["preview", "--diff"]);
    expect(counts(preview)).toEqual({ replace: 1 });
    expect(preview).toMatch(/\+-\s*pulumi-nodejs:dynamic\/geartrain:BrokerApp: \(replace\)/);
    expect(preview).toMatch(/gearProfile\s*:\s*"small"\s*=>\s*"medium"/);
  } finally {
    sandbox.ok(["config", "rm", "profile"]);
  }
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

test("destroy removes the app, its route, its DNS record and the domain", async () => {
  const uuid = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout).appId as string;
  pulumi(["destroy", "--yes", "--skip-preview"]);
  await expect(client.application(DOMAIN, "web1")).rejects.toMatchObject({ kind: "not_found" });
  await expect(client.domain(DOMAIN)).rejects.toMatchObject({ kind: "not_found" });
  expect(await readGearFrontend(cp.node.ctx, uuid)).toBeNull();
  expect(await dig(cp.bind, FQDN(), "CNAME")).toEqual([]);
  await expect(inspectGear(cp.node.ctx, uuid)).rejects.toMatchObject({ kind: "not_found" });
});
