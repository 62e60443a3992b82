// The frontend and network sections of the node config: defaults, overrides, refusals.

import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { defaultConfig, resolveConfig } from "../../../node/config";
import { masterPidFile, reloadArgv, testArgv } from "../../../node/frontend/nginx";

test("defaults", () => {
  const c = resolveConfig({});
  expect(c.frontend).toEqual({
    confDir: "/etc/nginx/geartrain.d",
    nginxConf: "/etc/nginx/nginx.conf",
    nginxBinary: "/usr/sbin/nginx",
    prefix: null,
    pidFile: null,
    reloadCommand: null,
    listen: "0.0.0.0:80",
    idleStarter: "127.0.0.1:8099",
    tls: null,
  });
  expect(c.network).toEqual({ isolation: "auto", table: "geartrain" });
  expect(defaultConfig().frontend).toEqual(c.frontend);
});

test("overrides", () => {
  const c = resolveConfig({
    frontend: {
      confDir: "/tmp/x/conf.d/",
      nginxConf: "/tmp/x/nginx.conf",
      prefix: "/tmp/x",
      pidFile: "/tmp/x/nginx.pid",
      listen: "127.0.0.1:18080",
      idleStarter: "127.0.0.1:18099",
    },
    network: { isolation: "none", table: "gt_test" },
  });
  expect(c.frontend.confDir).toBe("/tmp/x/conf.d");
  expect(c.frontend.listen).toBe("127.0.0.1:18080");
  expect(c.network).toEqual({ isolation: "none", table: "gt_test" });
  expect(testArgv(c.frontend)).toEqual([
    "/usr/sbin/nginx",
    "-t",
    "-q",
    "-p",
    "/tmp/x/",
    "-c",
    "/tmp/x/nginx.conf",
    "-g",
    "pid /tmp/x/nginx.pid;",
  ]);
  expect(reloadArgv(c.frontend)).toEqual([
    "/usr/sbin/nginx",
    "-p",
    "/tmp/x/",
    "-c",
    "/tmp/x/nginx.conf",
    "-g",
    "pid /tmp/x/nginx.pid;",
    "-s",
    "reload",
  ]);
  const rc = resolveConfig({ frontend: { reloadCommand: ["/bin/systemctl", "reload", "nginx"] } });
  expect(reloadArgv(rc.frontend)).toEqual(["/bin/systemctl", "reload", "nginx"]);
  expect(testArgv(rc.frontend)).toEqual(["/usr/sbin/nginx", "-t", "-q", "-c", "/etc/nginx/nginx.conf"]);
  for (const listen of ["80", "*:80", "[::]:8080"])
    expect(resolveConfig({ frontend: { listen } }).frontend.listen).toBe(listen);
});

test("tls: parsed with http2 on by default; null or absent is HTTP only", () => {
  const tls = {
    listen: "127.0.0.1:18443",
    certificate: "/etc/geartrain/tls/wild.crt",
    key: "/etc/geartrain/tls/wild.key",
  };
  expect(resolveConfig({ frontend: { listen: "127.0.0.1:18080", tls } }).frontend.tls).toEqual({
    ...tls,
    http2: true,
  });
  expect(resolveConfig({ frontend: { tls: { ...tls, listen: "443", http2: false } } }).frontend.tls).toEqual({
    ...tls,
    listen: "443",
    http2: false,
  });
  // paths are normalised like every other frontend path
  expect(
    resolveConfig({ frontend: { tls: { ...tls, certificate: "/etc//x/../wild.crt" } } }).frontend.tls
      ?.certificate,
  ).toBe("/etc/wild.crt");
  expect(resolveConfig({ frontend: { tls: null } }).frontend.tls).toBeNull();
  expect(resolveConfig({ frontend: {} }).frontend.tls).toBeNull();
});

const TLS = { listen: "127.0.0.1:18443", certificate: "/etc/x/wild.crt", key: "/etc/x/wild.key" };

test.each<[string, unknown, RegExp]>([
  ["tls not an object", { frontend: { tls: "on" } }, /^invalid config\.frontend\.tls: must be an object/],
  ["tls array", { frontend: { tls: [TLS] } }, /^invalid config\.frontend\.tls: must be an object/],
  [
    "tls unknown key",
    { frontend: { tls: { ...TLS, ciphers: "ALL" } } },
    /^invalid config\.frontend\.tls\.ciphers: unknown key/,
  ],
  [
    "tls without listen",
    { frontend: { tls: { ...TLS, listen: undefined } } },
    /^invalid config\.frontend\.tls\.listen: is required/,
  ],
  [
    "tls without certificate",
    { frontend: { tls: { listen: TLS.listen, key: TLS.key } } },
    /^invalid config\.frontend\.tls\.certificate: is required/,
  ],
  [
    "tls without key",
    { frontend: { tls: { listen: TLS.listen, certificate: TLS.certificate } } },
    /^invalid config\.frontend\.tls\.key: is required/,
  ],
  [
    "tls listen injection",
    { frontend: { tls: { ...TLS, listen: "443 ssl; include /etc/passwd" } } },
    /^invalid config\.frontend\.tls\.listen: must be/,
  ],
  [
    "tls listen port 0",
    { frontend: { tls: { ...TLS, listen: "127.0.0.1:0" } } },
    /^invalid config\.frontend\.tls\.listen: must be/,
  ],
  [
    "tls listen number",
    { frontend: { tls: { ...TLS, listen: 443 } } },
    /^invalid config\.frontend\.tls\.listen: must be/,
  ],
  [
    "tls listen on the HTTP port",
    { frontend: { listen: "0.0.0.0:80", tls: { ...TLS, listen: "127.0.0.1:80" } } },
    /^invalid config\.frontend\.tls\.listen: must use another port than frontend\.listen/,
  ],
  [
    "tls certificate relative",
    { frontend: { tls: { ...TLS, certificate: "wild.crt" } } },
    /^invalid config\.frontend\.tls\.certificate: must be an absolute path/,
  ],
  [
    "tls certificate with ;",
    { frontend: { tls: { ...TLS, certificate: "/etc/x.crt;ssl_verify_client off" } } },
    /^invalid config\.frontend\.tls\.certificate: must match/,
  ],
  [
    "tls certificate not a string",
    { frontend: { tls: { ...TLS, certificate: { pem: "x" } } } },
    /^invalid config\.frontend\.tls\.certificate: must be an absolute path/,
  ],
  [
    "tls key with a space",
    { frontend: { tls: { ...TLS, key: "/etc/x y.key" } } },
    /^invalid config\.frontend\.tls\.key: must match/,
  ],
  [
    "tls key is the certificate",
    { frontend: { tls: { ...TLS, key: TLS.certificate } } },
    /^invalid config\.frontend\.tls\.key: must be another file/,
  ],
  [
    "tls http2 string",
    { frontend: { tls: { ...TLS, http2: "yes" } } },
    /^invalid config\.frontend\.tls\.http2: must be a boolean/,
  ],
])("refuses %s", (_n, doc, msg) => {
  expect(() => resolveConfig(doc)).toThrow(msg);
});

test.each<[string, unknown, RegExp]>([
  ["frontend not an object", { frontend: [] }, /^invalid config\.frontend: must be an object/],
  ["unknown frontend key", { frontend: { conf: "/x" } }, /^invalid config\.frontend\.conf: unknown key/],
  [
    "relative confDir",
    { frontend: { confDir: "conf.d" } },
    /^invalid config\.frontend\.confDir: must be an absolute path/,
  ],
  ["confDir with ;", { frontend: { confDir: "/etc/x;y" } }, /^invalid config\.frontend\.confDir: must match/],
  [
    "confDir with space",
    { frontend: { confDir: "/etc/x y" } },
    /^invalid config\.frontend\.confDir: must match/,
  ],
  ["pidFile with quote", { frontend: { pidFile: '/run/"x' } }, /^invalid config\.frontend\.pidFile/],
  [
    "listen injection",
    { frontend: { listen: "80; include /etc/passwd" } },
    /^invalid config\.frontend\.listen/,
  ],
  ["listen port too big", { frontend: { listen: "127.0.0.1:70000" } }, /^invalid config\.frontend\.listen/],
  [
    "idleStarter without port",
    { frontend: { idleStarter: "127.0.0.1" } },
    /^invalid config\.frontend\.idleStarter/,
  ],
  [
    "idleStarter bad ip",
    { frontend: { idleStarter: "127.0.0.300:80" } },
    /^invalid config\.frontend\.idleStarter/,
  ],
  [
    "reloadCommand string",
    { frontend: { reloadCommand: "nginx -s reload" } },
    /^invalid config\.frontend\.reloadCommand/,
  ],
  [
    "reloadCommand relative",
    { frontend: { reloadCommand: ["nginx", "-s", "reload"] } },
    /^invalid config\.frontend\.reloadCommand/,
  ],
  ["isolation", { network: { isolation: "ipfw" } }, /^invalid config\.network\.isolation/],
  ["table", { network: { table: "Geartrain!" } }, /^invalid config\.network\.table/],
  ["network key", { network: { chain: "x" } }, /^invalid config\.network\.chain: unknown key/],
])("refuses %s", (_n, doc, msg) => {
  expect(() => resolveConfig(doc)).toThrow(msg);
});

test("the pid file the reload wait reads: pidFile, else the conf's main-context pid directive, else nginx's default", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gt-unit-pid-"));
  try {
    const conf = path.join(dir, "nginx.conf");
    const fe = (extra: Record<string, unknown>) =>
      resolveConfig({ frontend: { nginxConf: conf, nginxBinary: "/nonexistent/nginx", ...extra } }).frontend;
    writeFileSync(conf, "user www-data;\npid /run/custom.pid;\nevents {}\n");
    expect(await masterPidFile(fe({ pidFile: "/tmp/x/nginx.pid" }))).toBe("/tmp/x/nginx.pid");
    expect(await masterPidFile(fe({}))).toBe("/run/custom.pid");
    writeFileSync(conf, "worker_processes 1; pid logs/n.pid;\n");
    expect(await masterPidFile(fe({ prefix: "/srv/ngx" }))).toBe("/srv/ngx/logs/n.pid");
    // commented out, or inside a block (not nginx's pid): the compiled-in default, here none (no binary)
    writeFileSync(conf, "# pid /run/old.pid;\nhttp {\n  pid /not/main.pid;\n}\n");
    expect(await masterPidFile(fe({}))).toBeNull();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
