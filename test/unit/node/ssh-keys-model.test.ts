// authorized_keys lines of a gear: strict key validation and rendering. Nothing from the input reaches the
// file unless it is a known type, canonical base64 whose wire format matches, and a name from the pattern.

import { ValidationError } from "../../../common/errors";
import {
  fingerprint,
  parseAuthorizedKeys,
  parsePublicKey,
  renderAuthorizedKeys,
  renderForcedCommand,
  renderKeyLine,
  stableReleasePath,
  validateKeyName,
  validateKeyParts,
} from "../../../node/deploy/ssh-keys-model";

const UUID = "0123456789abcdef0123456789abcdef";
const CMD = ["/opt/geartrain/bin/gear-shell", "/usr/bin/node"];

const ED = "AAAAC3NzaC1lZDI1NTE5AAAAIJ+I1AVeG2XuaTSVvp9Q8vCbVnQidrbMpeB73r+RuvUN";
const EC256 =
  "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJVCj5fsH9QojrHirbYHGEZID6vgeNZcTUq9qnzZdSSQjIDwZgYFu5bhoQr7yY+CQtxKrQZcyfNeqUWhJSxdrSs=";
const EC384 =
  "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBMnr8G8nq9c52uOvuUBFXM2FRMlpmq9RnrwxOkUIktFr9GwH6G14dCDM4nCCyUXiTOUkdV9g5vq3HWzY30ERJveyMoILJE/lpkK9FsgJFkS+BlCSjP5nIkojee6Squ7FLQ==";
const RSA3072 =
  "AAAAB3NzaC1yc2EAAAADAQABAAABgQDQhyNxDrnWOH1QZhSSOgCALlSsFa+v20t4VHLMxaypOqj9CJ9+tjy9/vwWPJXKVIeRWWjBsZ28UsymSf7h6XAKZUeiDIDuMdNvhMAiz+MxxYKfgvpNNsfn3mnsphXpva5+yacp/jLNjdbfsIybzjfSF8Ulc3cUZuEQDcu09uyzVunwhgBGRBigUFcDqY5cgwRDl/1W6FFmVn80GEfsWFRnox7EDoUAu/s3z3UBkE5SSk4CHIyr5aN9p2z05vy47WMaVvrakHoriuyLs5/8q3eazm3uJU4XIuiCwu2hzfAzK6SMszaVt32Va1UzRmhiDPWjhtwrKAsSIx4sFuQ3ipGSOsp3NZOpmqfpQg7NUjYDzvjf5ffPSzcDnF4iIM+uvz1wDC/EulWDrw03RIE6pon26WqjLlQdXkgAE/m+WeVUNJUB0abalOzpUmjzwpvLxxouMPhiJiTXVTqCwB0OnZIRdGAqaHHn9EgbL3/kUl4R/pd5Mh5qn+5XCUkpxh5eUIk=";
const RSA1024 =
  "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDcz+79SqvKx5Go2BQyD9cGn6RF3RGy19Xi4qDBKwfH7bgk9llpuDEcCzl8k5UTrFNn1veNAs/otRjNNevJlMVThs/cokGjnfzIQCQ5QOEpm8erL1Xf51DbaP1eU5vbpE+9YWdzdS6ndwadNBm/1YrMrkBJPIsBYCrTElK+UACZ+w==";
const DSA =
  "AAAAB3NzaC1kc3MAAACBAOtNWF/jkQAhC3HRhZw9qeVmY51YbyhuRntZAG35quQNj7Gs20qm49xRK2G9Mlmbksy8DK2ZnNwx7au2SeHdsAd2R/w0Y+bU5jY44UBJRNBXgzru/BBIA28QXrfB7/YGqaPrh+3sqYRSEn5TZ0uu5eiSveXO8kr73BYL3yFGCqthAAAAFQCZsJyDgF08nE6AJhujR3GyUBfIaQAAAIBWS0c18mFTOLbeHhA7OZ2MUV+aon738PpOv8EUZZ/tcUtltWMCPMy8HJC7hORbo4YIOxKE8WoU7qLgpzgjUeRqp34L6emykXhQm1JbAnO+yw9QoUX4u2wFDzSdFzWoz5QHS3wdaWwMTv2DHzEYlZkQkqMjVxIxzV5LQAUbyPnCuwAAAIB8mPlrYOFyG+MZt4CWBWMFF3DGMkTqE6PQImLXRe4GLgk207YVBT1vtTWLAubbJ6IJqhONe3E57BnULT31LkfjVerzGMMXut0ITWP1C5BtKuMdowS+gIACf3OXyDsbp6Z593ZKS49bxCntySA/SXy+RGn6a0hawA4knV6ZpRIcTA==";

describe("public keys", () => {
  test.each([
    ["ssh-ed25519", ED],
    ["ecdsa-sha2-nistp256", EC256],
    ["ecdsa-sha2-nistp384", EC384],
    ["ssh-rsa", RSA3072],
  ])("accepts %s", (type, blob) => {
    expect(parsePublicKey(`${type} ${blob} alice@laptop\n`)).toEqual({ type, blob, comment: "alice@laptop" });
    expect(parsePublicKey(`${type} ${blob}`)).toEqual({ type, blob, comment: null });
  });

  test("fingerprints match ssh-keygen -l", () => {
    expect(fingerprint(ED)).toBe("SHA256:+unN/ZfGRvyzYWSK4SzojskV0jKNSgok4mvHB2vFqN4");
    expect(fingerprint(RSA3072)).toBe("SHA256:3i8YCgtM2662sMuLcYCJA7m1KbcdImz7e2F9FajH7tk");
  });

  test.each([
    [`ssh-rsa ${RSA1024}`, /rsa keys need at least 2048 bits \(this one has 1024\)/],
    [`ssh-dss ${DSA}`, /key type must be one of/],
    [`ssh-rsa ${ED}`, /the key data is a "ssh-ed25519" key, not ssh-rsa/],
    [`ecdsa-sha2-nistp256 ${EC384}`, /is a "ecdsa-sha2-nistp384" key/],
    [`ssh-ed25519 ${ED.slice(0, -4)}`, /truncated|canonical base64/],
    [`ssh-ed25519 ${ED}AAAA`, /trailing data/],
    [`ssh-ed25519 ${ED.replace("AAAAC3", "AAAAC3!")}`, /canonical base64/],
    [`ssh-ed25519 ${ED}=`, /canonical base64/],
    ["ssh-ed25519", /must be <type> <base64>/],
    [`command="id" ssh-ed25519 ${ED}`, /key type must be one of/],
    [`no-pty ssh-ed25519 ${ED}`, /key type must be one of/],
    [`ssh-ed25519 ${ED} x\nssh-ed25519 ${ED}`, /one printable line/],
    [`ssh-ed25519 ${ED} caf\u00e9`, /one printable line/],
    [`ssh-ed25519\t${ED}`, /one printable line/],
  ])("refuses %j", (line, message) => {
    expect(() => parsePublicKey(line)).toThrow(ValidationError);
    expect(() => parsePublicKey(line)).toThrow(message);
  });

  test("key names: a strict pattern, no quotes, spaces, commas or =", () => {
    for (const ok of ["alice", "alice@laptop", "ci-bot_2.key+x"]) expect(validateKeyName(ok)).toBe(ok);
    for (const bad of [
      "",
      "-alice",
      "a b",
      'a"b',
      "a,command=id",
      'x",command="id',
      "a\nb",
      "a'b",
      "a\\b",
      "a$b",
      "x".repeat(65),
      null,
      7,
    ]) {
      expect(() => validateKeyName(bad)).toThrow(ValidationError);
    }
  });
});

describe("authorized_keys", () => {
  const alice = { type: "ssh-ed25519" as const, blob: ED, name: "alice@laptop" };
  const bob = { type: "ssh-rsa" as const, blob: RSA3072, name: "bob" };

  test("one line per key: forced command, restrictions, GEARTRAIN-<uuid>-<name>", () => {
    expect(renderKeyLine(alice, UUID, CMD)).toBe(
      `command="/opt/geartrain/bin/gear-shell /usr/bin/node",restrict,no-port-forwarding,` +
        `no-X11-forwarding,no-agent-forwarding,no-pty ssh-ed25519 ${ED} GEARTRAIN-${UUID}-alice@laptop`,
    );
  });

  test("the file is sorted by name, deterministic, and parses back", () => {
    const text = renderAuthorizedKeys([bob, alice], UUID, CMD);
    expect(text).toBe(renderAuthorizedKeys([alice, bob], UUID, CMD));
    expect(text.split("\n")).toHaveLength(3);
    expect(text.endsWith("\n")).toBe(true);
    expect(parseAuthorizedKeys(text, UUID)).toEqual({ keys: [alice, bob], foreign: 0 });
    expect(renderAuthorizedKeys([], UUID, CMD)).toBe("");
  });

  test("injection attempts never reach the file", () => {
    expect(() => renderKeyLine({ ...alice, name: 'x" command="id' }, UUID, CMD)).toThrow(/name/);
    expect(() => renderKeyLine({ ...alice, name: "x\nssh-ed25519 AAAA evil" }, UUID, CMD)).toThrow(/name/);
    expect(() => renderKeyLine({ ...alice, name: "x,command=id" }, UUID, CMD)).toThrow(/name/);
    expect(() => renderKeyLine({ ...alice, blob: `${ED} command="id"` }, UUID, CMD)).toThrow(/base64/);
    expect(() =>
      renderKeyLine({ ...alice, type: 'ssh-ed25519",command="id' as "ssh-ed25519" }, UUID, CMD),
    ).toThrow(/key type/);
    expect(() => renderKeyLine(alice, "../../etc", CMD)).toThrow(/uuid/);
    expect(() => renderForcedCommand(["/usr/bin/node", 'x" ,command="id'])).toThrow(/forcedCommand/);
    expect(() => renderForcedCommand(["/usr/bin/node", "a;id"])).toThrow(/forcedCommand/);
    expect(() => renderForcedCommand(["/usr/bin/node", "a b"])).toThrow(/forcedCommand/);
    expect(() => renderForcedCommand(["node", "x"])).toThrow(/absolute/);
    expect(() => renderForcedCommand([])).toThrow(/empty/);
  });

  test("lines that are not ours (hand edits, other gears, bad keys) are counted and not kept", () => {
    const ours = renderKeyLine(alice, UUID, CMD);
    const otherGear = renderKeyLine(bob, "f".repeat(32), CMD);
    const handEdit = `ssh-ed25519 ${ED} someone`;
    const noForced = ours.replace(/^command="[^"]*",/, "");
    const badKey = ours.replace(ED, RSA1024);
    const parsed = parseAuthorizedKeys([ours, otherGear, handEdit, noForced, badKey, ""].join("\n"), UUID);
    expect(parsed).toEqual({ keys: [alice], foreign: 4 });
  });

  test("validateKeyParts returns the canonical blob", () => {
    expect(validateKeyParts("ssh-ed25519", ED)).toEqual({ type: "ssh-ed25519", blob: ED });
  });
});

describe("stableReleasePath: the forced command outlives the release it was written by", () => {
  const KEY = "4979499b5f53c364";
  const links = (map: Record<string, string>) => (link: string) => map[link] ?? null;
  it("names an installed release's file through the installation's current link", () => {
    const current = links({ "/opt/geartrain/current": `releases/${KEY}` });
    expect(stableReleasePath(`/opt/geartrain/releases/${KEY}/bin/gear-shell`, current)).toBe(
      "/opt/geartrain/current/bin/gear-shell",
    );
    expect(stableReleasePath(`/opt/geartrain/releases/${KEY}/runtime/bin/node`, current)).toBe(
      "/opt/geartrain/current/runtime/bin/node",
    );
    // an absolute link target, and current already on a newer release: still the link
    const absolute = links({ "/srv/gt/release/current": "/srv/gt/release/releases/0123456789abcdef" });
    expect(stableReleasePath(`/srv/gt/release/releases/${KEY}/bin/gear-shell`, absolute)).toBe(
      "/srv/gt/release/current/bin/gear-shell",
    );
  });

  it("leaves the path as it is without a current link to a release, or outside a release", () => {
    const file = `/opt/geartrain/releases/${KEY}/bin/gear-shell`;
    expect(stableReleasePath(file, links({}))).toBe(file);
    expect(stableReleasePath(file, links({ "/opt/geartrain/current": "/tmp/elsewhere" }))).toBe(file);
    expect(stableReleasePath("/work/main/bin/gear-shell", () => "releases/" + KEY)).toBe(
      "/work/main/bin/gear-shell",
    );
    expect(stableReleasePath("/opt/geartrain/releases/notakey/bin/gear-shell", () => `releases/${KEY}`)).toBe(
      "/opt/geartrain/releases/notakey/bin/gear-shell",
    );
  });
});
