import { utils } from "ssh2";
import {
  HostKeyMismatchError,
  describeKey,
  fingerprint,
  hostKeyAlgorithms,
  hostKeyMatches,
  parseHostKey,
} from "../../../plugins/command/hostkey";

const ed = utils.generateKeyPairSync("ed25519", { comment: "host-a" });
const other = utils.generateKeyPairSync("ed25519");
const ecdsa = utils.generateKeyPairSync("ecdsa", { bits: 256 });

function blobOf(pub: string): Buffer {
  return Buffer.from(pub.trim().split(/\s+/)[1], "base64");
}

describe("parseHostKey", () => {
  it("reads an authorized_keys style line", () => {
    const k = parseHostKey(ed.public);
    expect(k.type).toBe("ssh-ed25519");
    expect(k.blob.equals(blobOf(ed.public))).toBe(true);
  });

  it("reads a known_hosts style line and a bare base64 blob", () => {
    const b64 = ed.public.split(/\s+/)[1];
    expect(parseHostKey(`10.0.0.5 ssh-ed25519 ${b64}`).blob.equals(blobOf(ed.public))).toBe(true);
    expect(parseHostKey(`  ${b64}\n`).type).toBe("ssh-ed25519");
    expect(parseHostKey(ecdsa.public).type).toBe("ecdsa-sha2-nistp256");
  });

  it.each(["", "not a key", "ssh-ed25519", "ssh-ed25519 !!!notbase64"])(
    "rejects %j saying what is expected",
    (text) => {
      expect(() => parseHostKey(text)).toThrow(
        /connection\.hostKey must be a public key such as "ssh-ed25519 AAAAC3Nza/,
      );
    },
  );

  it("rejects base64 that is not a key blob", () => {
    expect(() => parseHostKey("ssh-ed25519 aGVsbG8gd29ybGQ=")).toThrow(/not an SSH public key/);
  });

  it("rejects a type label that does not match the key data", () => {
    const b64 = ed.public.split(/\s+/)[1];
    expect(() => parseHostKey(`ssh-rsa ${b64}`)).toThrow(
      "connection.hostKey says ssh-rsa but the key data is ssh-ed25519",
    );
  });
});

describe("host key comparison", () => {
  it("matches the same blob only", () => {
    const pinned = parseHostKey(ed.public);
    expect(hostKeyMatches(pinned, blobOf(ed.public))).toBe(true);
    expect(hostKeyMatches(pinned, blobOf(other.public))).toBe(false);
  });

  it("explains a mismatch with both fingerprints", () => {
    const err = new HostKeyMismatchError("root@10.0.0.5:22", parseHostKey(ed.public), blobOf(other.public));
    expect(err.message).toBe(
      `host key verification failed for root@10.0.0.5:22: expected ${describeKey(blobOf(ed.public))} (connection.hostKey), ` +
        `but the server presented ${describeKey(blobOf(other.public))}. If the host was rebuilt on purpose, update ` +
        "connection.hostKey; otherwise something is intercepting the connection.",
    );
    expect(describeKey(blobOf(ed.public))).toMatch(/^ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(blobOf(ed.public))).not.toMatch(/=$/);
  });

  it("asks the server for the pinned key type", () => {
    expect(hostKeyAlgorithms("ssh-ed25519")).toEqual(["ssh-ed25519"]);
    expect(hostKeyAlgorithms("ssh-rsa")).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    expect(hostKeyAlgorithms("sk-ssh-ed25519@openssh.com")).toBeUndefined();
  });
});
