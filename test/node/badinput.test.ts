// Bad input: clear error naming the field, exit 3 (or 2 for usage), and nothing created on the host.

import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { cli, makeTestNode, newUuid, TestNode, traces } from "./helpers";

jest.setTimeout(120_000);

let node: TestNode;
beforeAll(async () => {
  node = await makeTestNode("bad", 61400);
});
afterAll(async () => {
  await node?.cleanup();
});

function hostSnapshot(): string {
  const passwd = readFileSync("/etc/passwd", "utf8");
  const group = readFileSync("/etc/group", "utf8");
  const homes = existsSync(node.config.gearBaseDir) ? readdirSync(node.config.gearBaseDir).join(",") : "";
  const prefix = `${node.config.cgroup.rootName}-`; // this node's gear groups, directly under each hierarchy
  const cg = node.ctx.cgroup
    .hierarchyDirs()
    .map((d) => readdirSync(d).filter((n) => n.startsWith(prefix) || n === node.config.cgroup.rootName))
    .join("|");
  const markers = existsSync(path.join(node.config.stateDir, "gears"))
    ? readdirSync(path.join(node.config.stateDir, "gears")).join(",")
    : "";
  const limits = readdirSync(node.config.limitsDir).join(",");
  return [passwd, group, homes, cg, markers, limits, existsSync("/tmp/gt-pwned") ? "PWNED" : ""].join(
    "\n--\n",
  );
}

const good = () => ({ uuid: newUuid(), uid: node.uid(1), app: "good", namespace: "ns", profile: "small" });

const cases: [string, Record<string, unknown>, string][] = [
  ["uuid too short", { uuid: "abc123" }, "uuid"],
  ["uuid upper case", { uuid: "ABCDEF0123456789ABCDEF0123456789" }, "uuid"],
  ["uuid with shell metacharacters", { uuid: "$(touch /tmp/gt-pwned)0000000000000" }, "uuid"],
  ["uid below the district", { uid: 61399 }, "uid"],
  ["uid above the district", { uid: 61500 }, "uid"],
  ["uid not an integer", { uid: "1e3" }, "uid"],
  ["app with ;", { app: "a;touch /tmp/gt-pwned" }, "app"],
  ["app with backticks", { app: "`touch /tmp/gt-pwned`" }, "app"],
  ["namespace with $()", { namespace: "$(touch /tmp/gt-pwned)" }, "namespace"],
  ["namespace with newline", { namespace: "ns\nroot" }, "namespace"],
  ["app starting with a digit", { app: "1app" }, "app"],
  ["app too long", { app: "a".repeat(33) }, "app"],
  ["unknown profile", { profile: "huge" }, "profile"],
  ["env name with =", { env: { "A=B": "x" } }, "env"],
  ["env name reserved", { env: { PATH: "/tmp" } }, "env"],
  ["env name under our prefix", { env: { GEARTRAIN_GEAR_UUID: "x" } }, "env"],
  ["env value with NUL", { env: { FOO: "a\u0000b" } }, "env.FOO"],
  ["unknown field", { extra: 1 }, "extra"],
];

test.each(cases)(
  "JSON on stdin: %s → exit 3 naming the field, nothing created",
  async (_what, patch, field) => {
    const before = hostSnapshot();
    const r = await cli(node, ["gear", "create"], JSON.stringify({ ...good(), ...patch }));
    expect(r.code).toBe(3);
    expect(r.json).toEqual({
      error: { kind: "invalid", field, message: expect.stringContaining(`invalid ${field}:`) },
    });
    expect(r.stderr).toContain(`invalid ${field}:`);
    expect(hostSnapshot()).toBe(before);
  },
);

test("flags: invalid values → exit 3; unknown flag → exit 2; bad JSON → exit 3", async () => {
  const before = hostSnapshot();
  const g = good();
  const base = [
    "gear",
    "create",
    "--uuid",
    g.uuid,
    "--uid",
    String(g.uid),
    "--app",
    g.app,
    "--namespace",
    g.namespace,
  ];
  expect((await cli(node, [...base.slice(0, 3), "not-a-uuid", ...base.slice(4)])).code).toBe(3);
  expect((await cli(node, [...base, "--profile", "x;y"])).code).toBe(3);
  expect((await cli(node, [...base, "--env", "NOEQUALS"])).code).toBe(3);
  expect((await cli(node, [...base, "--bogus"])).code).toBe(2);
  expect((await cli(node, ["gear", "create"], "{not json")).code).toBe(3);
  expect((await cli(node, ["gear", "frobnicate"])).code).toBe(2);
  expect((await cli(node, ["gear", "inspect", "../../etc"])).code).toBe(3);
  expect((await cli(node, ["gear", "destroy", "*"])).code).toBe(3);
  expect((await cli(node, ["mcs-label", "0"])).code).toBe(3);
  expect((await cli(node, ["addresses", "12;3"])).code).toBe(3);
  expect(hostSnapshot()).toBe(before);
  // and the same flags, all valid, do create the gear (so the refusals above were about the bad values)
  const ok = await cli(node, [...base, "--profile", "small", "--env", "FOO=a b;c"]);
  expect([ok.code, ok.stderr]).toEqual([0, ""]);
  expect((ok.json as { spec: { env: Record<string, string> } }).spec.env).toEqual({ FOO: "a b;c" });
  expect((await cli(node, ["gear", "destroy", g.uuid])).code).toBe(0);
  expect(traces(node, g.uuid)).toEqual([]); // (the node-level state dir stays)
});

test("conflicts: uid of another user, existing non-gear user name → exit 5, nothing created", async () => {
  // a real account holding a UID in the district range
  const { execFileSync } = await import("child_process");
  const squatter = `gtsquat${process.pid}`;
  execFileSync("useradd", ["-M", "-N", "-u", String(node.uid(50)), "-g", "0", squatter]);
  try {
    const before = hostSnapshot();
    const r = await cli(node, ["gear", "create"], JSON.stringify({ ...good(), uid: node.uid(50) }));
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(`uid ${node.uid(50)} is taken by user ${squatter}`);
    expect(hostSnapshot()).toBe(before);
  } finally {
    execFileSync("userdel", [squatter]);
  }
  // same uuid, different spec → conflict (update is the way to change)
  const g = good();
  expect((await cli(node, ["gear", "create"], JSON.stringify(g))).code).toBe(0);
  const again = await cli(node, ["gear", "create"], JSON.stringify({ ...g, app: "other" }));
  expect(again.code).toBe(5);
  const upd = await cli(node, ["gear", "update"], JSON.stringify({ uuid: g.uuid, uid: node.uid(2) }));
  expect(upd.code).toBe(3);
  expect((await cli(node, ["gear", "destroy", g.uuid])).code).toBe(0);
});
