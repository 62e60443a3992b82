// Frontend spec validation: every value lands in an nginx config file, so nothing nginx could parse as
// syntax may pass (config injection), and the canonical form is stable.

import { ValidationError } from "../../../common/errors";
import {
  hostnameProblems,
  validateBackendIp,
  validateFrontendSpec,
  validateHostname,
  validateRoutePath,
} from "../../../node/frontend/validate";

const UUID = "0123456789abcdef0123456789abcdef";
const route = (path: string, extra: Record<string, unknown> = {}) => ({
  path,
  backend: { ip: "127.1.244.1", port: 8080 },
  ...extra,
});
const spec = (extra: Record<string, unknown> = {}) => ({
  gearUuid: UUID,
  hostnames: ["app-ns.example.com"],
  routes: [route("")],
  ...extra,
});

// everything that could end or extend an nginx directive, block or string
const INJECTIONS = [
  "a b.example.com",
  'a".example.com',
  "a'.example.com",
  "a;.example.com",
  "a{.example.com",
  "a}.example.com",
  "a\n.example.com",
  "a\r.example.com",
  "a\t.example.com",
  "a#.example.com",
  "a$host.example.com",
  "a\\.example.com",
  "a\0.example.com",
];

describe("host names", () => {
  test.each(["app-ns.example.com", "a.b", "x1-y2.apps.example.org", `${"a".repeat(63)}.example.com`])(
    "accepts %s",
    (h) => expect(validateHostname(h)).toBe(h),
  );

  test.each([
    ...INJECTIONS,
    "",
    "localhost",
    "App-NS.example.com",
    "-app.example.com",
    "app-.example.com",
    "app..example.com",
    ".example.com",
    "example.com.",
    "*.example.com",
    "_.example.com",
    "app.example.com:80",
    `${"a".repeat(64)}.example.com`,
    `${"abcdefgh.".repeat(28)}com`,
  ])("refuses %j", (h) => {
    expect(() => validateHostname(h, "hostnames[0]")).toThrow(ValidationError);
    expect(() => validateHostname(h, "hostnames[0]")).toThrow(
      /^invalid hostnames\[0\]: must be a lower-case DNS name/,
    );
  });

  test("refuses non-strings", () => {
    for (const v of [undefined, null, 1, ["a.b"], { h: "a.b" }])
      expect(() => validateHostname(v)).toThrow(ValidationError);
  });
});

describe("route paths", () => {
  test.each(["", "/a", "/api/v1", "/a.b_c~d-e", "/A9"])("accepts %j", (p) =>
    expect(validateRoutePath(p)).toBe(p),
  );

  test.each([
    ...INJECTIONS.map((s) => `/${s}`),
    "a",
    "/",
    "/a/",
    "//a",
    "/a//b",
    "/.",
    "/..",
    "/a/../b",
    "/a?b",
    "/a%20b",
    "/a*",
    "/a:b",
  ])("refuses %j", (p) =>
    expect(() => validateRoutePath(p, "routes[0].path")).toThrow(/^invalid routes\[0\]\.path: /),
  );
});

describe("backend", () => {
  test.each(["127.0.0.1", "127.1.244.1", "127.255.255.254"])("ip %s", (ip) =>
    expect(validateBackendIp(ip)).toBe(ip),
  );
  test.each([
    "10.0.0.1",
    "127.1.244",
    "127.01.2.3",
    "127.256.0.1",
    "127.1.1.1 ",
    "127.1.1.1;",
    "::1",
    "localhost",
  ])("refuses ip %j", (ip) =>
    expect(() => validateBackendIp(ip)).toThrow(/must be an IPv4 address in 127\.0\.0\.0\/8/),
  );

  test.each([0, 65536, 1.5, "8080", -1, NaN])("refuses port %j", (port) =>
    expect(() =>
      validateFrontendSpec(spec({ routes: [{ path: "", backend: { ip: "127.1.244.1", port } }] })),
    ).toThrow(/^invalid routes\[0\]\.backend\.port: must be an integer 1\.\.65535/),
  );

  test("backend path is validated like a route path", () => {
    expect(() =>
      validateFrontendSpec(
        spec({ routes: [{ path: "", backend: { ip: "127.1.244.1", port: 1, path: "/x;y" } }] }),
      ),
    ).toThrow(/^invalid routes\[0\]\.backend\.path: /);
  });
});

describe("whole spec", () => {
  test("canonical: routes longest first, defaults dropped, key order fixed", () => {
    const out = validateFrontendSpec({
      idle: false,
      routes: [
        route(""),
        route("/b", { websocket: false }),
        { backend: { port: 81, path: "", ip: "127.1.244.2" }, path: "/api/v1", websocket: true },
        route("/a"),
      ],
      hostnames: ["app-ns.example.com", "alias.example.org"],
      gearUuid: UUID,
    });
    expect(out).toEqual({
      gearUuid: UUID,
      hostnames: ["app-ns.example.com", "alias.example.org"],
      routes: [
        { path: "/api/v1", backend: { ip: "127.1.244.2", port: 81 }, websocket: true },
        route("/a"),
        route("/b"),
        route(""),
      ],
    });
    expect(JSON.stringify(out)).toBe(JSON.stringify(validateFrontendSpec(out)));
    expect(validateFrontendSpec(spec({ idle: true })).idle).toBe(true);
  });

  test("a spec without routes is valid (everything answers 404)", () => {
    expect(validateFrontendSpec(spec({ routes: [] })).routes).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ["uuid", { gearUuid: "ABC" }, /^invalid gearUuid: must be exactly 32 lowercase hex/],
    ["uuid injection", { gearUuid: `${"0".repeat(31)};` }, /^invalid gearUuid/],
    ["no host names", { hostnames: [] }, /^invalid hostnames: must be a list of 1\.\.32/],
    ["host names not a list", { hostnames: "a.b" }, /^invalid hostnames: /],
    ["duplicate host name", { hostnames: ["a.b", "a.b"] }, /^invalid hostnames: "a\.b" is listed twice/],
    ["injected alias", { hostnames: ["a.b", "c.d; return 200"] }, /^invalid hostnames\[1\]/],
    ["routes missing", { routes: undefined }, /^invalid routes: must be a list/],
    ["duplicate path", { routes: [route("/a"), route("/a")] }, /^invalid routes: path "\/a" is mapped twice/],
    [
      "unknown route key",
      { routes: [route("", { extra: 1 })] },
      /^invalid routes\[0\]\.extra: unknown field/,
    ],
    [
      "unknown backend key",
      { routes: [{ path: "", backend: { ip: "127.0.0.2", port: 1, host: "x" } }] },
      /^invalid routes\[0\]\.backend\.host: unknown field/,
    ],
    [
      "websocket not boolean",
      { routes: [route("", { websocket: "yes" })] },
      /^invalid routes\[0\]\.websocket: must be a boolean/,
    ],
    ["idle not boolean", { idle: 1 }, /^invalid idle: must be a boolean/],
    ["unknown key", { alias: [] }, /^invalid alias: unknown field/],
    [
      "too many routes",
      { routes: Array.from({ length: 65 }, (_, i) => route(`/r${i}`)) },
      /^invalid routes: must be a list of at most 64/,
    ],
  ])("refuses %s", (_name, extra, msg) => {
    expect(() => validateFrontendSpec(spec(extra))).toThrow(msg);
  });

  test("refuses non-objects", () => {
    for (const v of [null, [], "x", 1])
      expect(() => validateFrontendSpec(v)).toThrow(/^invalid request: must be a JSON object/);
  });
});

describe("names a gear may have", () => {
  test("punycode labels are refused anywhere in the name", () => {
    for (const h of ["xn--80ak6aa92e.com", "www.xn--pple-43d.org", "a.b.xn--p1ai"])
      expect(() => validateHostname(h, "hostnames[1]")).toThrow(
        /^invalid hostnames\[1\]: must not have a punycode label/,
      );
    expect(validateHostname("xn-a.example.org")).toBe("xn-a.example.org");
  });

  test("under the cloud domain only the gear's own name; another gear's is a conflict", () => {
    const others = new Map([["shop-dev.example.com", "b".repeat(32)]]);
    const own = "evil-dev.example.com";
    expect(hostnameProblems([own, "www.evil.example.org"], own, "example.com", others)).toEqual([]);
    expect(
      hostnameProblems(
        [own, "shop-dev.example.com", "example.com", "admin.example.com"],
        own,
        "example.com",
        others,
      ),
    ).toEqual([
      {
        field: "hostnames[1]",
        hostname: "shop-dev.example.com",
        ownerGear: "b".repeat(32),
        message: `shop-dev.example.com is the host name of gear ${"b".repeat(32)}`,
      },
      {
        field: "hostnames[2]",
        hostname: "example.com",
        ownerGear: null,
        message: "example.com is the cloud domain example.com itself",
      },
      {
        field: "hostnames[3]",
        hostname: "admin.example.com",
        ownerGear: null,
        message: `admin.example.com is under the cloud domain example.com, where a gear has only its own name (${own})`,
      },
    ]);
    // not under the domain: a look-alike suffix is an ordinary alias
    expect(hostnameProblems(["www.notexample.com"], own, "example.com", others)).toEqual([]);
  });
});
