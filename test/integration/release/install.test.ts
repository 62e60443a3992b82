// The release bundle for real, on one namespace test host (test/helpers/test-hosts) over SSH with its pinned
// host key: the archive of this checkout is uploaded and unpacked into /opt/geartrain/releases/<key>, where
// the bundled Node.js runs `geartrain --version`, `help` and the broker's and agent's help (the host's own
// Debian nodejs is another version); a second install uploads nothing and shows no drift; older releases are
// pruned to `keep`; a host of another architecture is refused before anything is uploaded; delete removes
// everything it installed; the checkout is not written to. Root; run under `flock /tmp/geartrain-heavy.lock`.
import { execFileSync } from "child_process";
import { TestHost, TestHosts, createTestHosts } from "../../helpers/test-hosts";
import { PROJECT_ROOT } from "../../helpers/pulumi-cli";
import { HostTransport, runOn } from "../../../components/host/transport";
import { releaseBundle, ReleaseBundle } from "../../../components/release";
import {
  installRelease,
  releaseInstallProvider,
  ReleaseInstallInputs,
  ReleaseInstallOutputs,
  RELEASE_PROVIDER_VERSION,
} from "../../../components/release/provider";
import { machineOf } from "../../../components/release/resolve";

// a cold archive build (about 20 s) and a cold image build (a few minutes) happen once
jest.setTimeout(600_000);

const DIR = "/opt/geartrain";
let th: TestHosts | undefined;
let h: TestHost;
let conn: HostTransport;
let bundle: ReleaseBundle;
let inputs: ReleaseInstallInputs;
let outs: ReleaseInstallOutputs;
const gitStatus = () =>
  execFileSync("git", ["status", "--porcelain"], { cwd: PROJECT_ROOT, encoding: "utf8" });
let statusBefore: string;

beforeAll(async () => {
  statusBefore = gitStatus();
  th = await createTestHosts(1, { names: ["release1"] });
  h = th.hosts[0];
  conn = {
    type: "ssh",
    host: h.address,
    port: h.port,
    user: h.user,
    hostKey: h.hostPublicKey,
    privateKey: h.privateKey,
    perDialTimeout: 10,
    dialErrorLimit: 5,
  };
  bundle = releaseBundle(PROJECT_ROOT);
  const archive = await bundle.archive();
  inputs = {
    host: "release1",
    connection: conn,
    directory: DIR,
    key: bundle.key,
    archive: archive.path,
    machine: machineOf(process.arch),
    keep: 2,
    providerVersion: RELEASE_PROVIDER_VERSION,
  };
});

afterAll(async () => {
  await th?.destroy();
  await th?.assertNoLeftovers();
});

async function sh(
  script: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runOn(conn, ["/bin/bash", "-c", script, "test", ...args]);
}

// Node hosts carry Debian's nodejs (18) for the nodejs cartridge; the bundle must not lean on it, and the
// `--version` check below tells the two apart by their versions.
it("the host's own Node.js, if any, is not the bundle's version", async () => {
  const r = await sh("command -v node >/dev/null && node --version || echo none");
  expect(r.stdout.trim()).not.toBe(process.version);
});

it("installs: uploaded over SFTP, unpacked whole, and the bundled Node.js runs geartrain there", async () => {
  const created = await releaseInstallProvider.create!(inputs);
  outs = created.outs as ReleaseInstallOutputs;
  expect(created.id).toBe(`release1:${DIR}`);
  expect(outs.installed).toEqual([bundle.key]);
  expect(outs.releases).toEqual([bundle.key]);
  const rel = `${DIR}/releases/${bundle.key}`;
  const version = await sh('"$1/runtime/bin/node" "$1/bin/geartrain" --version', rel);
  expect(version).toMatchObject({
    code: 0,
    stdout: `geartrain 0.1.0 (release ${bundle.key}, node ${process.version})\n`,
  });
  // every command group loads from the bundle's node_modules (nothing of the dev dependencies is needed)
  const help = await sh('"$1/runtime/bin/node" "$1/bin/geartrain" help', rel);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^ {2}broker {6}the broker/m);
  for (const group of ["broker", "agent", "node"]) {
    const r = await sh('"$1/runtime/bin/node" "$1/bin/geartrain" "$2" --help', rel, group);
    expect({ group, code: r.code, stderr: r.stderr }).toEqual({ group, code: 0, stderr: "" });
  }
  // root's files, readable by the services' users; `current` points at it; nothing half-made is left
  const listing = await sh(
    'stat -c "%U:%G %a %n" "$1" "$1/runtime/bin/node" "$1/bin/geartrain" "$1/package.json"; readlink "$2/current"; ls -A "$2/releases"',
    rel,
    DIR,
  );
  expect(listing.stdout).toBe(
    [
      `root:root 755 ${rel}`,
      `root:root 755 ${rel}/runtime/bin/node`,
      `root:root 755 ${rel}/bin/geartrain`,
      `root:root 644 ${rel}/package.json`,
      `releases/${bundle.key}`,
      bundle.key,
      "",
    ].join("\n"),
  );
  // dev dependencies are not in the bundle
  expect((await sh('ls "$1/node_modules"', rel)).stdout.split("\n")).not.toEqual(
    expect.arrayContaining(["jest", "typescript", "eslint", "prettier"]),
  );
  expect(
    (await sh('test -d "$1/node_modules/@pulumi/pulumi" && test -d "$1/node_modules/ssh2"', rel)).code,
  ).toBe(0);
});

it("a second install uploads nothing, and the provider sees no change", async () => {
  const again = await installRelease(inputs);
  expect(again.uploaded).toBe(false);
  expect(again.releases).toEqual([bundle.key]);
  expect(await releaseInstallProvider.diff!(`release1:${DIR}`, outs, { ...inputs })).toEqual({
    changes: false,
  });
  // another machine's cache path for the same archive is no change either
  expect(
    await releaseInstallProvider.diff!(`release1:${DIR}`, outs, {
      ...inputs,
      archive: "/elsewhere/x.tar.gz",
    }),
  ).toEqual({
    changes: false,
  });
});

it("a release removed on the host shows as a change, and update installs it again", async () => {
  expect((await sh('rm -rf "$1/releases/$2"', DIR, bundle.key)).code).toBe(0);
  expect(await releaseInstallProvider.diff!(`release1:${DIR}`, outs, inputs)).toEqual({ changes: true });
  const updated = await releaseInstallProvider.update!(`release1:${DIR}`, outs, inputs);
  outs = updated.outs as ReleaseInstallOutputs;
  expect(outs.releases).toEqual([bundle.key]);
  expect((await sh('"$1/current/runtime/bin/node" -e "process.exit(0)"', DIR)).code).toBe(0);
});

it("keeps the newest `keep` releases and removes the older ones", async () => {
  // two older releases (hard-linked copies with their own key), installed before this one
  const older = ["00000000000000a1", "00000000000000a2"];
  const copy = [
    'set -e; cd "$1/releases"',
    'for k in "$3" "$4"; do cp -al "$2" "$k"; sed -i "s/$2/$k/" "$k/release.json"; done',
    'echo 1 > "$3/.installed"; echo 2 > "$4/.installed"',
  ].join("\n");
  expect(await sh(copy, DIR, bundle.key, ...older)).toMatchObject({ code: 0 });
  const r = await installRelease(inputs);
  expect(r.uploaded).toBe(false);
  expect(r.releases).toEqual([bundle.key, older[1]]);
  expect((await sh('ls -A "$1/releases"', DIR)).stdout).toBe(`${[bundle.key, older[1]].sort().join("\n")}\n`);
  await sh('rm -rf "$1/releases/$2"', DIR, older[1]);
});

it("refuses a host of another architecture before uploading anything", async () => {
  await expect(installRelease({ ...inputs, machine: "aarch64", key: "00000000000000b1" })).rejects.toThrow(
    `release on host 'release1': the host is ${machineOf(process.arch)}, the release's Node.js is for aarch64`,
  );
  expect((await sh('ls -A "$1/releases"', DIR)).stdout).toBe(`${bundle.key}\n`);
});

it("delete removes every release it installed, the current link and the directory", async () => {
  await releaseInstallProvider.delete!(`release1:${DIR}`, outs);
  expect((await sh('test -e "$1" || echo gone', DIR)).stdout).toBe("gone\n");
  expect((await sh("ls -A /opt")).stdout).toBe("");
  // a second delete is a no-op
  await releaseInstallProvider.delete!(`release1:${DIR}`, outs);
});

it("wrote nothing into the checkout", () => {
  expect(gitStatus()).toBe(statusBefore);
});
