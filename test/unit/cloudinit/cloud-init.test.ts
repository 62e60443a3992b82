// Checks our output with cloud-init itself (Debian package `cloud-init`, listed in
// scripts/debian-packages.txt): its schema validator for the cloud-config, and its own user-data reader
// for the MIME framing, transfer encodings, gzip and YAML 1.1 quoting. Works offline.
// Without cloud-init the suite fails with the command that installs it.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderCloudConfig, renderUserData, type UserDataConfig } from "../../../components/cloudinit";
import { FULL_CLOUD_CONFIG, FULL_USER_DATA, MINIMAL_CLOUD_CONFIG, MINIMAL_USER_DATA } from "./fixtures";

const CLOUD_INIT = "/usr/bin/cloud-init";
const PYTHON = "/usr/bin/python3"; // Debian's, where the cloudinit module lives (not a pyenv shim)
const READER = path.join(__dirname, "read-user-data.py");

const available =
  fs.existsSync(CLOUD_INIT) &&
  spawnSync(PYTHON, ["-c", "import cloudinit, yaml"], { stdio: "ignore" }).status === 0;
// A missing prerequisite fails loudly with the fix; it never skips.
if (!available) {
  throw new Error(
    "cloud-init is not installed: run `bash scripts/setup-debian.sh` (apt-get install -y cloud-init)",
  );
}

interface SeenPart {
  contentType: string;
  filename: string;
  mergeType: string | null;
  content: string;
  loaded?: unknown;
}

/** What cloud-init's user-data processor makes of `userData` (raw bytes: plain or gzip). */
function readAsCloudInit(userData: Buffer): SeenPart[] {
  return JSON.parse(execFileSync(PYTHON, [READER], { input: userData, encoding: "utf8" }));
}

describe("cloud-init accepts what we render", () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-cloudinit-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["minimal", MINIMAL_CLOUD_CONFIG],
    ["full", FULL_CLOUD_CONFIG],
  ])("`cloud-init schema` validates the %s cloud-config without errors or deprecations", (name, config) => {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, renderCloudConfig(config));
    const run = spawnSync(CLOUD_INIT, ["schema", "--config-file", file], { encoding: "utf8" });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    expect(run.stdout).toContain("Valid cloud-config");
  });

  it("`cloud-init schema` does catch a bad cloud-config (the check is real)", () => {
    const file = path.join(dir, "bad.yaml");
    fs.writeFileSync(
      file,
      renderCloudConfig({ write_files: [{ path: "/x", permissions: 644 as unknown as string }] }),
    );
    const run = spawnSync(CLOUD_INIT, ["schema", "--config-file", file], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/permissions/);
  });

  const expectedParts = (config: UserDataConfig) =>
    config.parts.map((part, i) => ({
      contentType: part.contentType,
      filename: part.filename ?? `part-${String(i + 1).padStart(3, "0")}`,
      mergeType: part.mergeType ?? null,
      content: part.content,
    }));

  it("reads the single-part user data as the one cloud-config, loaded as we meant it", () => {
    const seen = readAsCloudInit(Buffer.from(renderUserData(MINIMAL_USER_DATA)));
    expect(seen).toEqual([{ ...expectedParts(MINIMAL_USER_DATA)[0], loaded: MINIMAL_CLOUD_CONFIG }]);
  });

  it("reads every part of the multipart user data intact: type, name, merge header, content (incl. non-ASCII)", () => {
    const seen = readAsCloudInit(Buffer.from(renderUserData(FULL_USER_DATA)));
    expect(seen.map(({ loaded: _loaded, ...part }) => part)).toEqual(expectedParts(FULL_USER_DATA));
    // PyYAML (YAML 1.1) loads our YAML as the value we rendered: no "yes"/"on"/octal surprises.
    expect(seen[0]?.loaded).toEqual(JSON.parse(JSON.stringify(FULL_CLOUD_CONFIG)));
  });

  it("reads gzip-compressed user data (after the transport's base64 is undone)", () => {
    const encoded = renderUserData({ ...FULL_USER_DATA, gzip: true, base64Encode: true });
    const seen = readAsCloudInit(Buffer.from(encoded, "base64"));
    expect(seen.map(({ loaded: _loaded, ...part }) => part)).toEqual(expectedParts(FULL_USER_DATA));
  });

  it("reads a message with a caller-chosen boundary", () => {
    const seen = readAsCloudInit(
      Buffer.from(renderUserData({ ...FULL_USER_DATA, boundary: "MIMEBOUNDARY" })),
    );
    expect(seen).toHaveLength(FULL_USER_DATA.parts.length);
  });
});
