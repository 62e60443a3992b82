// The guestbook quickstart on the real host (as root): `geartrain node quickstart guestbook` (the built CLI)
// makes a gear with Debian's PostgreSQL (postgresql cartridge) and the guestbook app (nodejs cartridge,
// deployed from the gear's git repository, `pg` installed by the build from the npm registry), served by a
// private nginx by Host header. Entries go through the web app into the database and survive a restart of
// the app; running the quickstart again changes nothing; bad input changes nothing.
// UIDs 62600-62699 (this file only).

import { existsSync, mkdtempSync, readdirSync, rmSync } from "fs";
import * as http from "http";
import * as path from "path";
import { nodeFrontend } from "../../node/cartridge/frontend";
import { controlCartridge } from "../../node";
import { repositoryRoot } from "../../node/cartridge/repository";
import { gearDeployments } from "../../node/deploy/operations";
import { inspectGear, listGears } from "../../node/gear/lifecycle";
import { startPrivateNginx, type PrivateNginx } from "../helpers/private-nginx";
import { runInGear } from "../../node/gear/run-in-gear";
import { requireCartridgePrereqs, waitFor } from "./cartridge-helpers";
import { cli, makeTestNode, newUuid, traces, type TestNode } from "./helpers";

jest.setTimeout(300_000);

let node: TestNode;
let nginx: PrivateNginx;
let nginxDir: string;

beforeAll(async () => {
  requireCartridgePrereqs();
  nginxDir = mkdtempSync("/tmp/gt-test-qs-nginx-");
  nginx = await startPrivateNginx(nginxDir);
  // no cartridges in the repository: the quickstart adds the shipped ones
  node = await makeTestNode("qs", 62600, { frontend: nginx.frontend });
});

afterAll(async () => {
  try {
    await node?.cleanup(); // destroys every gear (processes, users, cgroups) and the netfilter table
  } finally {
    await nginx?.stop();
    if (nginxDir) rmSync(nginxDir, { recursive: true, force: true });
  }
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request to the private nginx with a Host header. */
function viaNginx(
  host: string,
  method: string,
  urlPath: string,
  body?: { type: string; data: string },
  accept = "application/json",
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { host, accept };
    if (body) {
      headers["content-type"] = body.type;
      headers["content-length"] = Buffer.byteLength(body.data);
    }
    const req = http.request(
      { host: "127.0.0.1", port: nginx.port, method, path: urlPath, headers, timeout: 15_000, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body?.data);
  });
}

const repoEntries = () => {
  const root = repositoryRoot(node.config);
  return existsSync(root) ? readdirSync(root).sort() : [];
};

test("bad input (a bad uuid) fails with exit 3 and creates nothing", async () => {
  const repoBefore = repoEntries();
  const gearsBefore = await listGears(node.ctx);
  const r = await cli(node, [
    "quickstart",
    "guestbook",
    "--uuid",
    "not-a-uuid",
    "--uid",
    String(node.uid(2)),
    "--app",
    "bad",
    "--namespace",
    "dev",
  ]);
  expect([r.code, r.json]).toEqual([
    3,
    { error: expect.objectContaining({ kind: "invalid", field: "uuid" }) },
  ]);
  // JSON on stdin is validated the same way (a uid outside the district, an unknown field)
  const good = newUuid();
  for (const req of [
    { uuid: good, uid: 1, app: "bad", namespace: "dev" },
    { uuid: good, uid: node.uid(2), app: "bad", namespace: "dev", colour: "red" },
    { uuid: good, uid: node.uid(2), app: "Bad!", namespace: "dev" },
  ]) {
    const s = await cli(node, ["quickstart", "guestbook"], JSON.stringify(req));
    expect([s.code, (s.json as { error?: { kind?: string } })?.error?.kind]).toEqual([3, "invalid"]);
  }
  expect((await cli(node, ["quickstart", "wordpress", "--uuid", good])).code).toBe(3);
  expect((await cli(node, ["quickstart", "guestbook", "--bogus", "x"])).code).toBe(2);
  expect(await listGears(node.ctx)).toEqual(gearsBefore);
  expect(traces(node, good)).toEqual([]);
  expect(repoEntries()).toEqual(repoBefore);
});

test("one command: nodejs + postgresql guestbook served through nginx, stored in its database", async () => {
  const uuid = newUuid();
  const uid = node.uid(1);
  const args = ["--uuid", uuid, "--uid", String(uid), "--app", "guestbook", "--namespace", "dev"];
  const first = await cli(node, ["quickstart", "guestbook", ...args, "--profile", "small"]);
  if (first.code !== 0)
    throw new Error(`quickstart failed (${first.code}): ${first.stdout}\n${first.stderr}`);
  const host = `guestbook-dev.${node.config.cloudDomain}`;
  const res = first.json as Record<string, unknown>;
  expect(res).toMatchObject({
    quickstart: "guestbook",
    uuid,
    app: "guestbook",
    namespace: "dev",
    url: `http://${host}/`,
    changed: true,
    warnings: [],
  });
  expect((res.steps as { step: string; changed: boolean }[]).map((s) => `${s.step} ${s.changed}`)).toEqual([
    "gear true",
    "repository postgresql true",
    "repository nodejs true",
    "install postgresql true",
    "install nodejs true",
    "commit true",
    "deploy true",
  ]);
  expect((res.cartridges as { name: string; status: string }[]).map((c) => `${c.name} ${c.status}`)).toEqual([
    "nodejs started",
    "postgresql started",
  ]);
  // both cartridges in the one gear, no drift; the app is a normal deployment of the repo's commit
  const ins = await inspectGear(node.ctx, uuid);
  expect(ins.drift).toEqual([]);
  const deps = await gearDeployments(node.ctx, uuid, { configPath: node.configPath });
  const dep = res.deployment as { id: string; sha: string };
  expect(deps.active).toEqual({ id: dep.id, sha: dep.sha });
  expect(dep.sha).toMatch(/^[0-9a-f]{40}$/);
  const home = path.join(node.config.gearBaseDir, uuid);
  // pg came from the build (npm install of the pinned version), not from the repo
  expect(existsSync(path.join(home, "app-root/runtime/repo/node_modules/pg/package.json"))).toBe(true);
  const pgVersion = await runInGear(node.ctx, uuid, [
    process.execPath,
    "-p",
    `require("${home}/app-root/runtime/repo/node_modules/pg/package.json").version`,
  ]);
  expect(pgVersion.stdout.trim()).toBe("8.23.1");

  // through nginx by Host header: empty, then a JSON entry with markup, then a form entry
  const empty = await viaNginx(host, "GET", "/entries.json");
  expect([empty.status, JSON.parse(empty.body)]).toEqual([200, []]);
  const evil = { name: "<script>alert(1)</script>", message: `hello <b>world</b> & "friends"` };
  const post = await viaNginx(host, "POST", "/entries", {
    type: "application/json",
    data: JSON.stringify(evil),
  });
  expect(post.status).toBe(201);
  expect(JSON.parse(post.body)).toMatchObject(evil);
  const form = await viaNginx(
    host,
    "POST",
    "/entries",
    { type: "application/x-www-form-urlencoded", data: "name=Ann&message=second+entry" },
    "text/html",
  );
  expect([form.status, form.headers.location]).toEqual([303, "./"]);
  const bad = await viaNginx(host, "POST", "/entries", { type: "application/json", data: "{}" });
  expect(bad.status).toBe(400);

  const page = await viaNginx(host, "GET", "/", undefined, "text/html");
  expect(page.status).toBe(200);
  expect(page.headers["content-type"]).toMatch(/^text\/html/);
  expect(page.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  expect(page.body).toContain("hello &lt;b&gt;world&lt;/b&gt; &amp; &quot;friends&quot;");
  expect(page.body).toContain("<strong>Ann</strong>: second entry");
  expect(page.body).not.toContain("<script>");
  expect(page.body).not.toContain("<b>world");

  // the rows are in PostgreSQL (asked with psql as the gear, with the published URL)
  const sql = await runInGear(node.ctx, uuid, [
    "/bin/sh",
    "-c",
    '/usr/bin/psql "$GEARTRAIN_POSTGRESQL_DB_URL" -XAtc "select name from guestbook_entries order by id"',
  ]);
  expect([sql.code, sql.stdout.trim().split("\n")]).toEqual([0, [evil.name, "Ann"]]);

  // restart the app: the entries are still there (the database, not the process, kept them)
  const restart = await controlCartridge(node.ctx, uuid, "nodejs", "restart", [], {
    frontend: nodeFrontend(),
  });
  expect(restart.ok).toBe(true);
  let after: Reply | null = null;
  await waitFor("the guestbook after restart", async () => {
    after = await viaNginx(host, "GET", "/entries.json").catch(() => null);
    return after?.status === 200;
  });
  expect((JSON.parse(after!.body) as { name: string }[]).map((e) => e.name)).toEqual(["Ann", evil.name]);

  // the same command again (JSON on stdin this time): a no-op that succeeds
  const again = await cli(
    node,
    ["quickstart", "guestbook"],
    JSON.stringify({ uuid, uid, app: "guestbook", namespace: "dev", profile: "small" }),
  );
  if (again.code !== 0) throw new Error(`re-run failed (${again.code}): ${again.stdout}\n${again.stderr}`);
  const res2 = again.json as Record<string, unknown>;
  expect(res2).toMatchObject({ uuid, url: `http://${host}/`, changed: false, deployment: dep });
  expect((res2.steps as { changed: boolean }[]).every((s) => !s.changed)).toBe(true);
  expect(
    (await gearDeployments(node.ctx, uuid, { configPath: node.configPath })).deployments.map((d) => d.id),
  ).toEqual(deps.deployments.map((d) => d.id));
  const still = await viaNginx(host, "GET", "/entries.json");
  expect(JSON.parse(still.body)).toHaveLength(2);

  // the same uuid with another spec: a conflict, nothing changed
  const clash = await cli(node, ["quickstart", "guestbook", ...args.slice(0, 6), "--namespace", "prod"]);
  expect(clash.code).toBe(5);
});
