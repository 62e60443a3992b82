import fc from "fast-check";
import {
  dnsNameProblem,
  inZone,
  validateDnsName,
  validateIpv4,
  validateTsigSecret,
} from "../../../common/dns-names";

describe("dnsNameProblem", () => {
  it.each(["a", "a.b", "xn--bcher-kva.example", "a-b.c1", "A.B", `${"a".repeat(63)}.b`])(
    "%s is a name",
    (n) => expect(dnsNameProblem(n)).toBeNull(),
  );
  it.each([
    ["", /empty/],
    ["a..b", /empty label/],
    [".a", /empty label/],
    ["a.", /dot/],
    ["-a.b", /label "-a"/],
    ["a-.b", /label "a-"/],
    ["a_b.c", /label "a_b"/],
    ["*.a.b", /label "\*"/],
    ["a b", /label/],
    [`${"a".repeat(64)}.b`, /64 characters/],
    [Array(64).fill("abc").join("."), /at most 253/],
  ])("%s: %s", (n, message) => expect(dnsNameProblem(n)).toMatch(message));
  it("counts labels", () => expect(dnsNameProblem("a", { minLabels: 2 })).toMatch(/at least 2/));
  it("never accepts a character that could break an nsupdate or zone line", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        if (dnsNameProblem(s) === null) expect(s).toMatch(/^[A-Za-z0-9.-]+$/);
      }),
    );
  });
});

it("validateDnsName lower-cases and names the field", () => {
  expect(validateDnsName("f", "A.Example")).toBe("a.example");
  expect(() => validateDnsName("f", 3)).toThrow(expect.objectContaining({ field: "f" }));
});

it("inZone", () => {
  expect(inZone("a.b.c", "b.c")).toBe(true);
  expect(inZone("b.c", "b.c")).toBe(true);
  expect(inZone("ab.c", "b.c")).toBe(false);
});

it("validateIpv4", () => {
  expect(validateIpv4("f", "127.0.0.1")).toBe("127.0.0.1");
  for (const bad of ["1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", " 1.2.3.4", "1.2.3.4\n"])
    expect(() => validateIpv4("f", bad)).toThrow(expect.objectContaining({ field: "f" }));
});

it("validateTsigSecret refuses non-base64 and sizes out of range without showing the value", () => {
  const ok = Buffer.alloc(32, 9).toString("base64");
  expect(validateTsigSecret("s", ok)).toBe(ok);
  for (const bad of ["abc", "ab c=", `${ok}\n`, Buffer.alloc(8).toString("base64")]) {
    let message = "";
    try {
      validateTsigSecret("s", bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid s: /);
    if (bad.length > 3) expect(message).not.toContain(bad.trim());
  }
});
