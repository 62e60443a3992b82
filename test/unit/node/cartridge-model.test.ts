// Pure cartridge rules: env naming, IP allocation, hook order, template passes, env layering for hooks,
// publish/subscribe matching and parsing, frontend routes, name validation.

import * as YAML from "yaml";
import { parseManifest, type Manifest } from "../../../cartridges/manifest";
import { appHostname } from "../../../node/gear/env";
import {
  allocateHostIds,
  cartridgeDir,
  cartridgeEnvProblem,
  compareVersions,
  connectionMatches,
  endpointBindings,
  gearRoutes,
  globToRegExp,
  hookEnv,
  installPlan,
  ipNames,
  listeningOn,
  nodeCartridgeEnv,
  parsePublishedEnv,
  systemCronFile,
  templatePass,
  validateAction,
  validateCartridgeName,
} from "../../../node/cartridge/model";
import { desiredFrontend } from "../../../node/cartridge/frontend";
import { GEAR_PATH } from "../../../node/gear/env";

const manifest = (extra: Record<string, unknown> = {}): Manifest =>
  parseManifest(
    YAML.stringify({
      Name: "example",
      "Cartridge-Short-Name": "EXAMPLE",
      "Cartridge-Version": "0.1.2",
      "Cartridge-Vendor": "acme",
      Version: "1.1",
      ...extra,
    }),
    "manifest.yml",
  );

const web = manifest({
  Categories: ["web_framework"],
  "Additional-Control-Actions": ["threaddump"],
  Endpoints: [
    {
      "Private-IP-Name": "IP",
      "Private-Port-Name": "PORT",
      "Private-Port": 8080,
      Mappings: [
        { Frontend: "", Backend: "", Options: { websocket: true } },
        { Frontend: "/health", Backend: "", Options: { health: true } },
        { Frontend: "/api", Backend: "/v1" },
      ],
    },
    { "Private-IP-Name": "IP", "Private-Port-Name": "ADMIN_PORT", "Private-Port": 9000 },
    { "Private-IP-Name": "DB_HOST", "Private-Port-Name": "DB_PORT", "Private-Port": 5432 },
  ],
});

describe("env naming", () => {
  test("the cartridge directory is the short name in lower case; reserved names are refused", () => {
    expect(cartridgeDir(web)).toBe("example");
    expect(() => cartridgeDir({ "Cartridge-Short-Name": "GIT" })).toThrow(/reserved/);
  });

  test("node variables: DIR, IDENT, one per IP name and per port name, primary dir", () => {
    const ips = { IP: "127.1.244.1", DB_HOST: "127.1.244.2" };
    expect(
      nodeCartridgeEnv({
        manifest: web,
        prefix: "GEARTRAIN_",
        home: "/g/u",
        dir: "example",
        ips,
        primary: true,
      }),
    ).toEqual({
      GEARTRAIN_EXAMPLE_ADMIN_PORT: "9000",
      GEARTRAIN_EXAMPLE_DB_HOST: "127.1.244.2",
      GEARTRAIN_EXAMPLE_DB_PORT: "5432",
      GEARTRAIN_EXAMPLE_DIR: "/g/u/example/",
      GEARTRAIN_EXAMPLE_IDENT: "acme:example:1.1:0.1.2",
      GEARTRAIN_EXAMPLE_IP: "127.1.244.1",
      GEARTRAIN_EXAMPLE_PORT: "8080",
      GEARTRAIN_PRIMARY_CARTRIDGE_DIR: "/g/u/example/",
    });
    const other = nodeCartridgeEnv({
      manifest: manifest(),
      prefix: "OPENSHIFT_",
      home: "/h",
      dir: "example",
      ips: {},
      primary: false,
    });
    expect(Object.keys(other)).toEqual(["OPENSHIFT_EXAMPLE_DIR", "OPENSHIFT_EXAMPLE_IDENT"]);
  });

  test("IP allocation: distinct IP names take the lowest free host ids (OpenShift find_open_ip)", () => {
    expect(ipNames(web)).toEqual(["IP", "DB_HOST"]);
    expect(allocateHostIds(["IP", "DB_HOST"], [])).toEqual({ IP: 1, DB_HOST: 2 });
    expect(allocateHostIds(["IP", "DB_HOST"], [1, 3])).toEqual({ IP: 2, DB_HOST: 4 });
    expect(() =>
      allocateHostIds(
        ["IP"],
        Array.from({ length: 127 }, (_, i) => i + 1),
      ),
    ).toThrow(/all in use/);
    expect(endpointBindings(web, { IP: "a", DB_HOST: "b" }).map((b) => `${b.ip}:${b.port}`)).toEqual([
      "a:8080",
      "a:9000",
      "b:5432",
    ]);
  });

  test("cartridge env/ variables allowed at run time", () => {
    expect(cartridgeEnvProblem("GEARTRAIN_EXAMPLE_X", "EXAMPLE", "GEARTRAIN_")).toBeUndefined();
    expect(cartridgeEnvProblem("NODE_ENV", "EXAMPLE", "GEARTRAIN_")).toBeUndefined();
    expect(cartridgeEnvProblem("GEARTRAIN_GEAR_UUID", "EXAMPLE", "GEARTRAIN_")).toMatch(/namespace/);
    expect(cartridgeEnvProblem("GEARTRAIN_CARTRIDGE", "EXAMPLE", "GEARTRAIN_")).toMatch(/node/);
    expect(cartridgeEnvProblem("PATH", "EXAMPLE", "GEARTRAIN_")).toMatch(/node/);
    expect(cartridgeEnvProblem("lower", "EXAMPLE", "GEARTRAIN_")).toMatch(/not a variable/);
  });
});

describe("hook order", () => {
  const scripts = {
    control: "bin/control",
    setup: "bin/setup",
    install: "bin/install",
    post_install: "bin/post_install",
  };
  test("the format's order with every optional script, a template app, a build and routes", () => {
    expect(
      installPlan({
        scripts,
        manifest: manifest({ ...web, "Install-Build-Required": true }),
        hasTemplate: true,
      }),
    ).toEqual([
      "copy",
      "env",
      "render-env",
      "setup",
      "render",
      "install",
      "repo",
      "build",
      "start",
      "routes",
      "post_install",
    ]);
  });
  test("absent optional scripts, no template, no mappings are skipped; start always runs", () => {
    expect(
      installPlan({ scripts: { control: "bin/control" }, manifest: manifest(), hasTemplate: false }),
    ).toEqual(["copy", "env", "render-env", "render", "start"]);
  });
});

describe("template passes", () => {
  const files = [
    "bin/control",
    "conf/app.conf.hbs",
    "conf/sub/deep.conf.hbs",
    "env/GEARTRAIN_X_LOG.hbs",
    "env/PLAIN",
    "template/index.hbs",
    "template.git/x.hbs",
    "usr/lib/shared.hbs",
    "versions/1.0/conf/v.hbs",
  ];
  test("pass 1: env/*.hbs only", () => {
    expect(templatePass(files, 1, [], "x")).toEqual(["env/GEARTRAIN_X_LOG.hbs"]);
  });
  test("pass 2 default: every other .hbs of the cartridge (not the starter app, not usr/)", () => {
    expect(templatePass(files, 2, [], "x")).toEqual([
      "conf/app.conf.hbs",
      "conf/sub/deep.conf.hbs",
      "versions/1.0/conf/v.hbs",
    ]);
  });
  test("pass 2 with processed_templates (relative, ~/<dir>/ anchored, directory)", () => {
    expect(templatePass(files, 2, ["conf/*.hbs"], "x")).toEqual(["conf/app.conf.hbs"]);
    expect(templatePass(files, 2, ["~/x/conf/sub/"], "x")).toEqual(["conf/sub/deep.conf.hbs"]);
    expect(templatePass(files, 2, ["~/other/**", "/etc/*"], "x")).toEqual([]);
    expect(templatePass(files, 2, ["env/*.hbs"], "x")).toEqual([]); // pass 1 owns env/
  });
  test("globs: ** spans directories (also none), * and ? stay in one segment, dotfiles match", () => {
    expect(globToRegExp("**/*.hbs").test("a.hbs")).toBe(true);
    expect(globToRegExp("**/*.hbs").test("a/b/.c.hbs")).toBe(true);
    expect(globToRegExp("conf/*.hbs").test("conf/a/b.hbs")).toBe(false);
    expect(globToRegExp("c?nf/a.hbs").test("conf/a.hbs")).toBe(true);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
  });
});

describe("env layering for hooks", () => {
  const base = {
    prefix: "GEARTRAIN_",
    dotEnv: { GEARTRAIN_GEAR_UUID: "u", GEARTRAIN_A_DIR: "/h/a/", SHARED: "from-node" },
    userVars: { USERVAR: "mine", GEARTRAIN_A_OVERRIDDEN: "user" },
  };
  test("cartridge env is added under the node's and the user's variables; the hook is marked", () => {
    const env = hookEnv({
      ...base,
      cartridges: [
        {
          dir: "a",
          shortName: "A",
          vars: {
            GEARTRAIN_A_LOG: "/l",
            GEARTRAIN_A_OVERRIDDEN: "cart",
            SHARED: "from-cart",
            GEARTRAIN_GEAR_UUID: "spoof",
            GEARTRAIN_B_X: "foreign",
            PATH: "/evil",
            GEARTRAIN_A_PATH_ELEMENT: "/h/a/bin:relative",
          },
        },
      ],
      self: "a",
    });
    expect(env).toEqual({
      GEARTRAIN_A_LOG: "/l",
      GEARTRAIN_A_PATH_ELEMENT: "/h/a/bin:relative",
      GEARTRAIN_CARTRIDGE: "a",
      PATH: `/h/a/bin:${GEAR_PATH}`,
    });
  });
  test("no cartridge: nothing extra", () => {
    expect(hookEnv({ ...base, cartridges: [], self: null })).toEqual({});
  });
});

describe("publish / subscribe", () => {
  test("type matching: exact, or * matching the rest", () => {
    expect(connectionMatches("ENV:NET_TCP:db:postgresql", "ENV:*")).toBe(true);
    expect(connectionMatches("NET_TCP:db:postgresql", "ENV:*")).toBe(false);
    expect(connectionMatches("NET_TCP:db:postgresql", "NET_TCP:db:*")).toBe(true);
    expect(connectionMatches("NET_TCP:db:postgresql", "NET_TCP:db:postgresql")).toBe(true);
    expect(connectionMatches("NET_TCP:db", "NET_TCP:db:postgresql")).toBe(false);
    expect(connectionMatches("NET_TCP:db:postgresql:x", "NET_TCP:db:postgresql")).toBe(false);
    expect(connectionMatches("ENV:", "ENV:*")).toBe(true);
  });
  test("published ENV lines: NAME=VALUE in the publisher's namespace only", () => {
    const out = [
      "GEARTRAIN_POSTGRESQL_DB_HOST=127.1.244.1",
      "export GEARTRAIN_POSTGRESQL_DB_URL=postgresql://u:p=w@h:5432/db",
      "",
      "# comment",
      "GEARTRAIN_GEAR_UUID=spoof",
      "PATH=/evil",
      "GEARTRAIN_POSTGRESQL_=x",
      "garbage",
    ].join("\n");
    const r = parsePublishedEnv(out, "POSTGRESQL", "GEARTRAIN_");
    expect(r.vars).toEqual({
      GEARTRAIN_POSTGRESQL_DB_HOST: "127.1.244.1",
      GEARTRAIN_POSTGRESQL_DB_URL: "postgresql://u:p=w@h:5432/db",
    });
    expect(r.problems).toHaveLength(4);
    expect(parsePublishedEnv(`GEARTRAIN_X_A=${"v".repeat(5000)}`, "X", "GEARTRAIN_").problems[0]).toMatch(
      /longer/,
    );
  });
});

describe("frontend routes", () => {
  const endpoints = endpointBindings(web, { IP: "127.1.244.1", DB_HOST: "127.1.244.2" });
  test("Mappings become routes: '' is the root, Backend paths kept, websocket kept, other options skipped", () => {
    expect(gearRoutes([{ dir: "example", endpoints }])).toEqual({
      routes: [
        { path: "/api", backend: { ip: "127.1.244.1", port: 8080, path: "/v1" } },
        { path: "", backend: { ip: "127.1.244.1", port: 8080 }, websocket: true },
      ],
      skipped: ["example /health (health: not supported by the frontend)"],
    });
  });
  test("a path already routed by another cartridge is skipped", () => {
    const r = gearRoutes([
      { dir: "b", endpoints },
      { dir: "a", endpoints: [{ ...endpoints[0], ip: "127.1.244.9", mappings: [{ Frontend: "" }] }] },
    ]);
    expect(r.routes.find((x) => x.path === "")?.backend.ip).toBe("127.1.244.9");
    expect(r.skipped).toContain("b / (already routed)");
  });
  test("the gear's spec: app host name first, other host names (aliases) and idle kept; none without routes", () => {
    const current = {
      gearUuid: "u",
      hostnames: ["www.example.org", "a-b.example.com"],
      routes: [],
      idle: false,
    };
    const d = desiredFrontend("u", "a", "b", "example.com", [{ dir: "example", endpoints }], current);
    expect(d.spec).toMatchObject({
      gearUuid: "u",
      hostnames: ["a-b.example.com", "www.example.org"],
      idle: false,
    });
    expect(desiredFrontend("u", "a", "b", "example.com", [], current).spec).toBeNull();
    expect(appHostname("a", "b", "example.com")).toBe("a-b.example.com");
  });
});

describe("validation", () => {
  test("actions: standard ones and Additional-Control-Actions, nothing else", () => {
    expect(validateAction("start", web)).toBe("start");
    expect(validateAction("threaddump", web)).toBe("threaddump");
    expect(() => validateAction("threaddump", manifest())).toThrow(/unknown action "threaddump"/);
    expect(() => validateAction("rm -rf", web)).toThrow(/must match/);
    expect(() => validateAction("Start", web)).toThrow(/must match/);
  });
  test("cartridge names", () => {
    expect(validateCartridgeName("postgresql")).toBe("postgresql");
    for (const bad of ["", "../x", "a/b", "-a", "A", "x".repeat(33), 5])
      expect(() => validateCartridgeName(bad)).toThrow(/invalid cartridge/);
  });
  test("versions compare numerically", () => {
    expect(["0.10.0", "0.2.0", "0.9"].sort(compareVersions)).toEqual(["0.2.0", "0.9", "0.10.0"]);
  });
});

describe("node facts", () => {
  test("listening sockets from /proc/net/tcp (exact address or wildcard)", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 01F4017F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1",
      "   1: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1",
      "   2: 02F4017F:0050 0100007F:1234 01 00000000:00000000 00:00000000 00000000     0        0 3 1",
    ].join("\n");
    expect(listeningOn(table, "127.1.244.1", 8080)).toBe(true);
    expect(listeningOn(table, "127.1.244.2", 8080)).toBe(false);
    expect(listeningOn(table, "127.1.244.2", 5432)).toBe(true); // 0.0.0.0:5432
    expect(listeningOn(table, "127.1.244.2", 80)).toBe(false); // established, not listening
  });
  test("system cron file calls the runner for each frequency", () => {
    const f = systemCronFile("/opt/geartrain/bin/geartrain", "/etc/geartrain/node.json");
    expect(f).toContain("GEARTRAIN_NODE_CONFIG=/etc/geartrain/node.json\n");
    expect(f).toContain("* * * * * root /opt/geartrain/bin/geartrain node cartridge cron-run minutely");
    for (const freq of ["hourly", "daily", "weekly", "monthly"]) expect(f).toContain(`cron-run ${freq} `);
  });
});
