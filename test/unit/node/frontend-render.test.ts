// Rendering of the nginx files: deterministic bytes (snapshots), path-mapping semantics, idle server block.

import { DEFAULT_FRONTEND } from "../../../node/config";
import {
  parseSpecLine,
  renderBaseConf,
  renderGearConf,
  renderStartingPage,
  routeLocations,
  specJson,
} from "../../../node/frontend/render";
import { validateFrontendSpec } from "../../../node/frontend/validate";

const UUID = "0123456789abcdef0123456789abcdef";
const fe = { ...DEFAULT_FRONTEND, listen: "127.0.0.1:8080", idleStarter: "127.0.0.1:8099" };
const spec = validateFrontendSpec({
  gearUuid: UUID,
  hostnames: ["app-ns.example.com", "www.example.org"],
  routes: [
    { path: "", backend: { ip: "127.1.244.1", port: 8080 } },
    { path: "/ws", backend: { ip: "127.1.244.1", port: 8081 }, websocket: true },
    { path: "/api/v1", backend: { ip: "127.1.244.2", port: 9000, path: "/v1" } },
  ],
});

test("gear file (snapshot)", () => {
  expect(renderGearConf(spec, fe)).toMatchSnapshot();
});

test("idle gear file (snapshot)", () => {
  expect(renderGearConf({ ...spec, idle: true }, fe)).toMatchSnapshot();
});

test("gear without a root route answers 404 at / (snapshot)", () => {
  const s = validateFrontendSpec({
    gearUuid: UUID,
    hostnames: ["app-ns.example.com"],
    routes: [{ path: "/only", backend: { ip: "127.1.244.1", port: 8080 } }],
  });
  expect(renderGearConf(s, fe)).toMatchSnapshot();
});

test("base file (snapshot)", () => {
  expect(renderBaseConf(fe)).toMatchSnapshot();
});

test("deterministic: same spec in any order renders the same bytes", () => {
  const shuffled = validateFrontendSpec({
    routes: [...spec.routes].reverse(),
    hostnames: spec.hostnames,
    gearUuid: UUID,
    idle: false,
  });
  expect(renderGearConf(shuffled, fe)).toBe(renderGearConf(spec, fe));
  expect(renderGearConf(spec, fe)).toBe(renderGearConf(spec, fe));
});

test("the stored spec line reads back to the same canonical spec", () => {
  const text = renderGearConf(spec, fe);
  expect(validateFrontendSpec(parseSpecLine(text))).toEqual(spec);
  expect(text.split("\n").filter((l) => l.startsWith("# geartrain-spec ")).length).toBe(1);
  expect(specJson(spec)).not.toMatch(/\n/);
  expect(parseSpecLine("server {}\n")).toBeNull();
});

test("path mappings follow ProxyPass <path> http://ip:port<backend path> on segment boundaries", () => {
  const mk = (path: string, bpath?: string) =>
    routeLocations(
      validateFrontendSpec({
        gearUuid: UUID,
        hostnames: ["a.b"],
        routes: [{ path, backend: { ip: "127.0.0.2", port: 80, ...(bpath ? { path: bpath } : {}) } }],
      }),
    ).map((l) => `${l.match} -> ${l.target}`);
  expect(mk("")).toEqual(["/ -> http://127.0.0.2:80"]);
  expect(mk("", "/app")).toEqual(["/ -> http://127.0.0.2:80/app/"]);
  expect(mk("/a")).toEqual(["= /a -> http://127.0.0.2:80/", "/a/ -> http://127.0.0.2:80/"]);
  expect(mk("/a", "/x/y")).toEqual(["= /a -> http://127.0.0.2:80/x/y", "/a/ -> http://127.0.0.2:80/x/y/"]);
});

test("the starting page fits in an nginx double-quoted string", () => {
  const page = renderStartingPage();
  expect(page).not.toMatch(/["$\\\n\r]/);
  expect(page).toMatch(/starting/i);
  expect(page).toMatch(/http-equiv=refresh content=5/);
});

test("listen and idleStarter come from the config", () => {
  const text = renderGearConf(
    { ...spec, idle: true },
    { listen: "0.0.0.0:80", idleStarter: "127.0.0.1:1234" },
  );
  expect(text).toMatch(/^ {4}listen 0\.0\.0\.0:80;$/m);
  expect(text).toMatch(/proxy_pass http:\/\/127\.0\.0\.1:1234;/);
});

describe("with frontend.tls", () => {
  const tls = {
    listen: "127.0.0.1:8443",
    certificate: "/etc/geartrain/tls/wildcard.crt",
    key: "/etc/geartrain/tls/wildcard.key",
    http2: true,
  };
  const feTls = { ...fe, tls };

  test("gear file: one server block on both listeners, the certificate (snapshot)", () => {
    const text = renderGearConf(spec, feTls);
    expect(text).toMatchSnapshot();
    expect(text).toMatch(/^ {4}listen 127\.0\.0\.1:8080;\n {4}listen 127\.0\.0\.1:8443 ssl http2;$/m);
    expect(text.match(/^server \{/gm)).toHaveLength(1);
    expect(text).toMatch(/^ {4}ssl_certificate \/etc\/geartrain\/tls\/wildcard\.crt;$/m);
    expect(text).toMatch(/^ {4}ssl_certificate_key \/etc\/geartrain\/tls\/wildcard\.key;$/m);
    // the gear is told which scheme the request came in on
    expect(text).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
  });

  test("idle gear file: the unidler on both listeners (snapshot)", () => {
    const text = renderGearConf({ ...spec, idle: true }, feTls);
    expect(text).toMatchSnapshot();
    expect(text).toMatch(/listen 127\.0\.0\.1:8443 ssl http2;/);
    expect(text).toMatch(/proxy_pass http:\/\/127\.0\.0\.1:8099;/);
  });

  test("base file: a TLS default server that answers 404 (snapshot)", () => {
    const text = renderBaseConf(feTls);
    expect(text).toMatchSnapshot();
    expect(text).toMatch(/listen 127\.0\.0\.1:8443 ssl http2 default_server;/);
  });

  test("http2: false leaves it out; the same spec line (the spec does not know about TLS)", () => {
    const text = renderGearConf(spec, { ...feTls, tls: { ...tls, http2: false } });
    expect(text).toMatch(/^ {4}listen 127\.0\.0\.1:8443 ssl;$/m);
    expect(parseSpecLine(text)).toEqual(parseSpecLine(renderGearConf(spec, fe)));
    expect(renderBaseConf({ ...feTls, tls: { ...tls, http2: false } })).toMatch(
      /listen 127\.0\.0\.1:8443 ssl default_server;/,
    );
  });

  test("tls null or absent renders the HTTP-only bytes", () => {
    expect(renderGearConf(spec, { ...fe, tls: null })).toBe(renderGearConf(spec, fe));
    expect(renderGearConf(spec, { listen: fe.listen, idleStarter: fe.idleStarter })).toBe(
      renderGearConf(spec, fe),
    );
    expect(renderBaseConf({ listen: fe.listen })).toBe(renderBaseConf(fe));
    expect(renderGearConf(spec, fe)).not.toMatch(/ssl/);
    expect(renderBaseConf(fe)).not.toMatch(/ssl/);
  });
});
