import { gunzipSync } from "zlib";
import * as YAML from "yaml";
import {
  renderCloudConfig,
  renderUserData,
  sha256Hex,
  type UserDataConfig,
} from "../../../components/cloudinit";
import { FULL_CLOUD_CONFIG, FULL_USER_DATA, MINIMAL_CLOUD_CONFIG, MINIMAL_USER_DATA } from "./fixtures";

/** Jest normalises line endings in snapshot files, so show CRs explicitly to pin them. */
const visibleCr = (text: string) => text.replace(/\r/g, "\\r");

/** The boundary named in a multipart message's first header. */
const boundaryOf = (message: string) =>
  /^Content-Type: multipart\/mixed; boundary="([^"]+)"\r\n/.exec(message)?.[1];

describe("renderCloudConfig", () => {
  it("renders the minimal fixture", () => {
    expect(renderCloudConfig(MINIMAL_CLOUD_CONFIG)).toMatchSnapshot();
  });

  it("renders the full fixture", () => {
    expect(renderCloudConfig(FULL_CLOUD_CONFIG)).toMatchSnapshot();
  });

  it("starts with #cloud-config and sorts keys at every level", () => {
    const text = renderCloudConfig({ runcmd: ["b"], packages: ["a"], users: [{ sudo: false, name: "x" }] });
    expect(text).toBe(
      "#cloud-config\npackages:\n  - a\nruncmd:\n  - b\nusers:\n  - name: x\n    sudo: false\n",
    );
  });

  it("reads back as the same value under YAML 1.1, as cloud-init's PyYAML reads it", () => {
    const text = renderCloudConfig(FULL_CLOUD_CONFIG);
    expect(YAML.parse(text, { version: "1.1" })).toEqual(FULL_CLOUD_CONFIG);
    // Strings that YAML 1.1 would turn into booleans or octal numbers stay quoted.
    const tricky = renderCloudConfig({ write_files: [{ path: "/x", content: "yes", permissions: "0644" }] });
    expect(tricky).toContain('content: "yes"');
    expect(tricky).toContain('permissions: "0644"');
  });

  it("is deterministic: key order and object identity of the input do not matter", () => {
    const shuffled = Object.fromEntries(Object.entries(FULL_CLOUD_CONFIG).reverse());
    expect(renderCloudConfig(shuffled)).toBe(renderCloudConfig(FULL_CLOUD_CONFIG));
    const keys = ["ssh-ed25519 AAAA k"];
    const shared = renderCloudConfig({
      ssh_authorized_keys: keys,
      users: [{ name: "a", ssh_authorized_keys: keys }],
    });
    expect(shared).not.toMatch(/[&*]a\d/); // no YAML anchors or aliases
  });
});

describe("renderUserData", () => {
  it("writes a single part whose type cloud-init detects as is", () => {
    const rendered = renderUserData(MINIMAL_USER_DATA);
    expect(rendered).toBe(MINIMAL_USER_DATA.parts[0]?.content);
    expect(rendered).toMatchSnapshot();
  });

  it("writes several parts as a MIME multipart message", () => {
    expect(visibleCr(renderUserData(FULL_USER_DATA))).toMatchSnapshot();
  });

  it("frames parts exactly as cloud-init expects", () => {
    const rendered = renderUserData({
      boundary: "B",
      parts: [
        { contentType: "text/cloud-config", content: "#cloud-config\n{}\n", mergeType: "list(append)" },
        { contentType: "text/x-shellscript", filename: "a.sh", content: "#!/bin/sh\ntrue" },
      ],
    });
    expect(rendered).toBe(
      [
        'Content-Type: multipart/mixed; boundary="B"',
        "MIME-Version: 1.0",
        "",
        "--B",
        "Content-Type: text/cloud-config",
        "MIME-Version: 1.0",
        "Content-Transfer-Encoding: 7bit",
        'Content-Disposition: attachment; filename="part-001"',
        "X-Merge-Type: list(append)",
        "",
        "#cloud-config\n{}\n",
        "--B",
        "Content-Type: text/x-shellscript",
        "MIME-Version: 1.0",
        "Content-Transfer-Encoding: 7bit",
        'Content-Disposition: attachment; filename="a.sh"',
        "",
        "#!/bin/sh\ntrue",
        "--B--",
        "",
      ].join("\r\n"),
    );
  });

  it("uses MIME for a single part when the bare content would not say the same", () => {
    const script = { contentType: "text/x-shellscript", content: "#!/bin/sh\ntrue\n" };
    expect(renderUserData({ parts: [script] })).toBe(script.content);
    const mime = (part: UserDataConfig["parts"][number]) =>
      boundaryOf(renderUserData({ parts: [part] })) !== undefined;
    expect(mime({ ...script, mergeType: "list(append)" })).toBe(true); // a header only MIME carries
    expect(mime({ ...script, content: "echo no shebang\n" })).toBe(true); // detected as text/plain
    expect(mime({ contentType: "text/cloud-boothook", content: "#!/bin/sh\ntrue\n" })).toBe(true); // detected as a script
    expect(mime({ ...script, content: "#!/bin/sh\n# MIME-Version: 1.0\n" })).toBe(true); // would be parsed as MIME
  });

  describe("boundary", () => {
    it("defaults to a value derived from the parts, absent from every part", () => {
      const rendered = renderUserData(FULL_USER_DATA);
      const boundary = boundaryOf(rendered);
      expect(boundary).toMatch(/^geartrain-[0-9a-f]{32}$/);
      for (const part of FULL_USER_DATA.parts) expect(part.content).not.toContain(boundary);
      expect(rendered.split(`--${boundary}\r\n`)).toHaveLength(FULL_USER_DATA.parts.length + 1);
      expect(rendered.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
    });

    it("changes when any part changes, and only then", () => {
      const again = structuredClone(FULL_USER_DATA);
      expect(boundaryOf(renderUserData(again))).toBe(boundaryOf(renderUserData(FULL_USER_DATA)));
      const changed = {
        parts: FULL_USER_DATA.parts.map((p, i) => (i === 2 ? { ...p, filename: "other.sh" } : p)),
      };
      expect(boundaryOf(renderUserData(changed))).not.toBe(boundaryOf(renderUserData(FULL_USER_DATA)));
    });

    it("uses a given boundary", () => {
      expect(boundaryOf(renderUserData({ ...FULL_USER_DATA, boundary: "MIMEBOUNDARY" }))).toBe(
        "MIMEBOUNDARY",
      );
    });

    it("rejects a boundary that occurs inside a part", () => {
      expect(() => renderUserData({ ...FULL_USER_DATA, boundary: "cloud-config" })).toThrow(
        /MIME boundary "cloud-config" occurs inside part 1 \(geartrain-node\.yaml\)/,
      );
    });

    it("rejects a boundary RFC 2046 does not allow", () => {
      for (const boundary of ["", "x".repeat(71), "ends with space ", 'quo"te', "new\r\nline"])
        expect(() => renderUserData({ ...FULL_USER_DATA, boundary })).toThrow(/Invalid MIME boundary/);
    });
  });

  it("is deterministic: same input, same bytes", () => {
    for (const config of [FULL_USER_DATA, { ...FULL_USER_DATA, gzip: true, base64Encode: true }]) {
      const first = renderUserData(config);
      expect(renderUserData(structuredClone(config))).toBe(first);
      expect(sha256Hex(renderUserData(config))).toBe(sha256Hex(first));
    }
  });

  it("base64-encodes when asked", () => {
    const plain = renderUserData(FULL_USER_DATA);
    const encoded = renderUserData({ ...FULL_USER_DATA, base64Encode: true });
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(encoded, "base64").toString("utf8")).toBe(plain);
  });

  it("gzips deterministically and round-trips", () => {
    const plain = renderUserData(FULL_USER_DATA);
    const encoded = renderUserData({ ...FULL_USER_DATA, gzip: true, base64Encode: true });
    const gz = Buffer.from(encoded, "base64");
    expect(gz.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 8])); // gzip, deflate
    expect(gz.readUInt32LE(4)).toBe(0); // mtime: none
    expect(gz[9]).toBe(0xff); // OS: unknown, the same on every platform
    expect(gunzipSync(gz).toString("utf8")).toBe(plain);
  });

  it("refuses gzip without base64, like the provider", () => {
    expect(() => renderUserData({ ...FULL_USER_DATA, gzip: true })).toThrow(/base64Encode.*gzip/);
  });

  it("sends non-ASCII content as base64, which cloud-init decodes intact", () => {
    const rendered = renderUserData(FULL_USER_DATA);
    const scriptPart = rendered.split(/--geartrain-[0-9a-f]{32}\r\n/)[3] ?? "";
    expect(scriptPart).toContain("Content-Transfer-Encoding: base64\r\n");
    const body = scriptPart.split("\r\n\r\n")[1]?.replace(/\r\n(--.*)?/g, "") ?? "";
    expect(Buffer.from(body, "base64").toString("utf8")).toBe(FULL_USER_DATA.parts[2]?.content);
    expect(rendered).toMatch(/^[\x00-\x7f]*$/); // the message itself is ASCII
  });

  it.each([
    ["no parts", { parts: [] }, /at least one part/],
    ["an empty content type", { parts: [{ contentType: "", content: "x" }] }, /Invalid contentType/],
    [
      "a header injected through the content type",
      { parts: [{ contentType: "text/plain\r\nX-Evil: 1", content: "x" }] },
      /Invalid contentType/,
    ],
    [
      "a quote in a filename",
      { parts: [{ contentType: "text/plain", content: "x", filename: 'a"b' }] },
      /Invalid filename/,
    ],
    [
      "a line break in a merge type",
      { parts: [{ contentType: "text/plain", content: "x", mergeType: "list()\nX: y" }] },
      /Invalid mergeType/,
    ],
  ])("rejects %s", (_title, config, error) => {
    expect(() => renderUserData(config as UserDataConfig)).toThrow(error);
  });
});
