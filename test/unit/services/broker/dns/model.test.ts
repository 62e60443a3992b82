import { ValidationError } from "../../../../../common/errors";
import {
  appRecordName,
  classifyFailure,
  parseTsigKeyFile,
  recordNames,
  recordSets,
  redact,
  removeScript,
  upsertScript,
  validateConfig,
  type NsupdateConfig,
} from "../../../../../services/broker/dns/model";

const secret = Buffer.alloc(32, 1).toString("base64");
const config: NsupdateConfig = {
  server: "127.0.0.1",
  port: 5353,
  zone: "Apps.Example.Test",
  key: { name: "cloud-key", algorithm: "hmac-sha256", secret },
};
const zone = "apps.example.test";

describe("validateConfig", () => {
  it("lower-cases the zone and fills the timeout", () => {
    expect(validateConfig(config)).toEqual({ ...config, zone, timeoutMs: 10_000 });
  });
  it.each([
    [{ ...config, port: 0 }, "dns.port"],
    [{ ...config, server: "localhost" }, "dns.server"],
    [{ ...config, zone: "test" }, "dns.zone"],
    [{ ...config, key: { ...config.key, name: "bad key" } }, "dns.key.name"],
    [{ ...config, key: { ...config.key, algorithm: "hmac-md5" } }, "dns.key.algorithm"],
    [{ ...config, key: { ...config.key, secret: "abc\nupdate delete x" } }, "dns.key.secret"],
  ])("refuses %o naming %s", (c, field) => {
    expect(() => validateConfig(c as NsupdateConfig)).toThrow(expect.objectContaining({ field }));
  });
  it("never shows the secret in its error", () => {
    const bad = "c2hvcnQ="; // 5 bytes
    expect(() => validateConfig({ ...config, key: { ...config.key, secret: bad } })).toThrow(/5 bytes/);
    try {
      validateConfig({ ...config, key: { ...config.key, secret: bad } });
    } catch (err) {
      expect((err as Error).message).not.toContain(bad);
    }
  });
});

describe("recordSets", () => {
  it("groups A values by name, defaults the TTL, lower-cases names", () => {
    expect(
      recordSets(
        [
          { name: "Node1.apps.example.test", type: "A", value: "10.0.0.1" },
          { name: "node1.apps.example.test", type: "A", value: "10.0.0.2" },
          { name: "app-ns.apps.example.test", type: "CNAME", value: "Node1.Apps.Example.Test", ttl: 30 },
        ],
        zone,
      ),
    ).toEqual([
      { name: "node1.apps.example.test", type: "A", ttl: 60, values: ["10.0.0.1", "10.0.0.2"] },
      { name: "app-ns.apps.example.test", type: "CNAME", ttl: 30, values: ["node1.apps.example.test"] },
    ]);
  });
  it.each([
    [[{ name: "a.other.test", type: "A", value: "10.0.0.1" }], "records[0].name", /not in the zone/],
    [[{ name: "apps.example.test", type: "CNAME", value: "n.example.test" }], "records[0].name", /zone apex/],
    [[{ name: "a_b.apps.example.test", type: "A", value: "10.0.0.1" }], "records[0].name", /label "a_b"/],
    [
      [{ name: "a.apps.example.test.", type: "A", value: "10.0.0.1" }],
      "records[0].name",
      /trailing|end with a dot/,
    ],
    [
      [{ name: `${"x".repeat(64)}.apps.example.test`, type: "A", value: "10.0.0.1" }],
      "records[0].name",
      /64/,
    ],
    [[{ name: "a.apps.example.test", type: "A", value: "10.0.0.256" }], "records[0].value", /IPv4/],
    [[{ name: "a.apps.example.test", type: "A", value: "010.0.0.1" }], "records[0].value", /IPv4/],
    [
      [{ name: "a.apps.example.test", type: "CNAME", value: "node 1.example.test" }],
      "records[0].value",
      /label/,
    ],
    [[{ name: "a.apps.example.test", type: "CNAME", value: "localhost" }], "records[0].value", /2 labels/],
    [[{ name: "a.apps.example.test", type: "MX", value: "10.0.0.1" }], "records[0].type", /"A" or "CNAME"/],
    [[{ name: "a.apps.example.test", type: "A", value: "10.0.0.1", ttl: -1 }], "records[0].ttl", /TTL/],
    [
      [
        { name: "a.apps.example.test", type: "CNAME", value: "n1.example.test" },
        { name: "a.apps.example.test", type: "CNAME", value: "n2.example.test" },
      ],
      "records[1].value",
      /two CNAME targets/,
    ],
    [
      [
        { name: "a.apps.example.test", type: "CNAME", value: "n1.example.test" },
        { name: "a.apps.example.test", type: "A", value: "10.0.0.1" },
      ],
      "records[1].type",
      /both CNAME and A/,
    ],
  ])("refuses %j naming %s", (records, field, message) => {
    let err: unknown;
    try {
      recordSets(records as never, zone);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ field });
    expect((err as Error).message).toMatch(message);
  });
});

describe("scripts", () => {
  const c = validateConfig(config);
  it("an upsert deletes the name's A and CNAME sets and adds the new values in one message", () => {
    const sets = recordSets(
      [
        { name: "node1.apps.example.test", type: "A", value: "10.0.0.1" },
        { name: "app-ns.apps.example.test", type: "CNAME", value: "node1.apps.example.test" },
      ],
      zone,
    );
    expect(upsertScript(c, sets)).toBe(
      [
        "server 127.0.0.1 5353",
        "zone apps.example.test",
        `key hmac-sha256:cloud-key ${secret}`,
        "update delete node1.apps.example.test. CNAME",
        "update delete node1.apps.example.test. A",
        "update delete app-ns.apps.example.test. CNAME",
        "update delete app-ns.apps.example.test. A",
        "update add node1.apps.example.test. 60 A 10.0.0.1",
        "update add app-ns.apps.example.test. 60 CNAME node1.apps.example.test.",
        "send",
        "",
      ].join("\n"),
    );
  });
  it("a remove deletes each name and type once", () => {
    const names = recordNames(
      [
        { name: "app-ns.apps.example.test", type: "CNAME" },
        { name: "APP-ns.apps.example.test", type: "CNAME" },
      ],
      zone,
    );
    expect(removeScript(c, names).split("\n").slice(3)).toEqual([
      "update delete app-ns.apps.example.test. CNAME",
      "send",
      "",
    ]);
  });
  it("recordNames names the field of a bad entry", () => {
    expect(() => recordNames([{ name: "x.example.org", type: "A" }], zone)).toThrow(
      expect.objectContaining({ field: "names[0].name" }),
    );
  });
});

describe("parseTsigKeyFile", () => {
  it("reads tsig-keygen's format", () => {
    const text = `key "cloud-key" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`;
    expect(parseTsigKeyFile(text)).toEqual({ name: "cloud-key", algorithm: "hmac-sha256", secret });
  });
  it("names what is missing, never the secret", () => {
    expect(() => parseTsigKeyFile("nothing")).toThrow(expect.objectContaining({ field: "keyFile" }));
    expect(() => parseTsigKeyFile(`key "k" { secret "${secret}"; };`)).toThrow(/no algorithm/);
    const bad = `key "k" { algorithm hmac-sha256; secret "not!base64"; };`;
    expect(() => parseTsigKeyFile(bad)).toThrow(expect.objectContaining({ field: "keyFile.secret" }));
    expect(() => parseTsigKeyFile(bad)).toThrow(expect.not.stringContaining("not!base64"));
  });
});

describe("classifyFailure and redact", () => {
  it.each([
    ["update failed: NOTAUTH(BADSIG)", "refused"],
    ["; TSIG error with server: tsig indicates error\nupdate failed: NOTAUTH(BADKEY)", "refused"],
    ["update failed: REFUSED", "refused"],
    ["; Communication with 127.0.0.1#15354 failed: operation canceled", "unreachable"],
    ["couldn't get address for 'x': not found", "unreachable"],
    ["syntax error", "failed"],
  ])("%s is %s", (stderr, kind) => expect(classifyFailure(stderr)).toBe(kind));
  it("replaces the secret and keeps a few lines", () => {
    expect(redact(`a ${secret}\n\n b \nc\nd\ne\nf`, secret)).toBe("a [redacted]; b; c; d; e");
  });
});

describe("appRecordName", () => {
  it("is <app>-<namespace>.<domain>", () => {
    expect(appRecordName("app1", "ns1", "apps.example.test")).toBe("app1-ns1.apps.example.test");
  });
  it("refuses a label over 63 characters", () => {
    expect(() => appRecordName("a".repeat(40), "n".repeat(30), "apps.example.test")).toThrow(/at most 63/);
  });
});
