// The CLI through the broker's real REST layer (services/broker/rest/server.ts) over the REST tests' fake
// AppService (test/unit/broker/fake-service.ts): our client and the broker's wire shapes agree (discovery,
// links, envelopes, auth, errors). The CLI against the whole broker is test/integration/cli/.

import { writeFileSync } from "fs";
import * as path from "path";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../../../../services/broker/rest/server";
import type { CliContext } from "../../../../services/cli/base";
import { group as admin } from "../../../../services/cli/groups/admin";
import { group as appGroup } from "../../../../services/cli/groups/app";
import { group as cartridge } from "../../../../services/cli/groups/cartridge";
import { group as check } from "../../../../services/cli/groups/check";
import { group as domain } from "../../../../services/cli/groups/domain";
import { group as env } from "../../../../services/cli/groups/env";
import { group as login } from "../../../../services/cli/groups/login";
import { group as sshkey } from "../../../../services/cli/groups/sshkey";
import { FakeService } from "../../broker/fake-service";
import { testCli, type TestCli } from "./helpers";

let svc: FakeService;
let server: FastifyInstance;
let url: string;
let t: TestCli;
const PW = "alice-secret-pw-1";

beforeEach(async () => {
  svc = new FakeService();
  svc.addUser("alice", PW);
  svc.addUser("bob", "bob-secret-pw-22");
  svc.addUser("root", "root-secret-pw-333", "admin");
  server = await buildServer({ service: svc, logger: false });
  url = await server.listen({ host: "127.0.0.1", port: 0 });
  t = testCli();
});
afterEach(async () => {
  t.cleanup();
  await server.close();
});

async function run(g: { runWith(a: readonly string[], c: CliContext): Promise<number> }, ...argv: string[]) {
  t.out.length = 0;
  t.err.length = 0;
  const code = await g.runWith(argv, t.ctx);
  return code;
}

async function loginAs(user: string, password: string) {
  t.stdin.text = `${password}\n`;
  const code = await run(login, "--server", url, "--login", user);
  expect({ code, err: t.err }).toEqual({ code: 0, err: [] });
}

it("every developer verb", async () => {
  await loginAs("alice", PW);
  const ok = async (g: Parameters<typeof run>[0], ...argv: string[]) => {
    const code = await run(g, ...argv);
    expect({ argv, code, err: t.err.filter((l) => /^geartrain/.test(l)) }).toEqual({
      argv,
      code: 0,
      err: [],
    });
  };
  await ok(domain, "create", "ns1");
  await ok(domain, "list");
  expect(t.out[1]).toMatch(/^ns1\s+alice/);
  await ok(appGroup, "create", "app1", "nodejs-20", "--env", "A=1");
  expect(t.out[0]).toMatch(/^app1 @ http:\/\/app1-ns1\.example\.test\//);
  await ok(appGroup, "list");
  await ok(appGroup, "show", "app1", "-n", "ns1");
  expect(t.out).toContain("    nodejs-20");
  for (const verb of ["stop", "start", "restart", "tidy"]) await ok(appGroup, verb, "app1");
  await ok(domain, "show", "ns1");
  expect(t.out.join("\n")).toMatch(/app1/);
  await ok(cartridge, "list");
  expect(t.out.join("\n")).toMatch(/postgresql-15\s+addon/);
  await ok(cartridge, "add", "postgresql-15", "-a", "app1");
  await ok(cartridge, "list", "-a", "app1", "--json");
  expect(JSON.parse(t.out.join("\n")).map((c: { name: string }) => c.name)).toEqual([
    "nodejs-20",
    "postgresql-15",
  ]);
  await ok(cartridge, "remove", "postgresql-15", "-a", "app1", "--confirm");
  await ok(env, "set", "B=2", "-a", "app1");
  await ok(env, "list", "-a", "app1", "--json");
  expect(JSON.parse(t.out.join("\n"))).toEqual(expect.arrayContaining([{ name: "B", value: "2" }]));
  await ok(env, "unset", "B", "-a", "app1");
  await ok(env, "list", "-a", "app1", "--json");
  expect(JSON.parse(t.out.join("\n"))).not.toEqual(expect.arrayContaining([{ name: "B", value: "2" }]));
  const pub = path.join(t.home, "k.pub");
  writeFileSync(
    pub,
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx1bXBzb2Z0aGVrZXlib2R5MDEyMzQ1Njc4OTAx me@host\n",
  );
  await ok(sshkey, "add", "k1", pub);
  await ok(sshkey, "list");
  expect(t.out[1]).toMatch(/^k1\s+ssh-ed25519/);
  await ok(sshkey, "remove", "k1");
  await ok(appGroup, "delete", "app1", "--confirm");
  await ok(domain, "delete", "ns1", "--confirm");
});

it("errors: field of a 422, not found with the broker's code, others' domains are not found", async () => {
  await loginAs("alice", PW);
  expect(await run(domain, "create", "Bad Name!", "--json")).toBe(3);
  expect(JSON.parse(t.out.join("\n")).error).toMatchObject({ kind: "invalid", status: 422 });
  expect(await run(appGroup, "show", "nope", "-n", "ns9")).toBe(4);
  await run(domain, "create", "alices");
  await loginAs("bob", "bob-secret-pw-22");
  expect(await run(domain, "show", "alices", "--json")).toBe(4);
  expect(JSON.parse(t.out.join("\n")).error).toMatchObject({
    kind: "not_found",
    status: 404,
    broker_exit_code: 127,
  });
  expect(await run(admin, "district", "list")).toBe(1);
});

it("admin verbs and a clean check", async () => {
  await loginAs("root", "root-secret-pw-333");
  const code = await run(admin, "district", "create", "d1", "--gear-profile", "small");
  expect({ code, err: t.err }).toEqual({ code: 0, err: [] });
  expect(await run(admin, "district", "list")).toBe(0);
  expect(await run(admin, "node", "list")).toBe(0);
  expect(await run(check)).toBe(0);
  expect(t.out.at(-1)).toMatch(/^OK: 0 gear record\(s\), 0 node\(s\)/);
});
