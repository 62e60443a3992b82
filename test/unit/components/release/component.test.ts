// InstalledRelease under the mocked engine: one child `${name}-install` parented to it and waiting for the
// host's SSH gate, the connection (with the private key) a secret output and in no plain input, the
// GeartrainRelease paths under <directory>/releases/<key>, no archive built without an engine, and bad args
// refused naming the field before any child is declared.
import * as pulumi from "@pulumi/pulumi";
import { recordResources, valueOf } from "../../../helpers/pulumi-mocks";

const resources = recordResources((r) => {
  if (r.name.endsWith("-facts"))
    return {
      stdout: JSON.stringify({
        kernel: "Linux 6.1",
        os: "debian 12",
        cgroup: "v2",
        selinux: "unavailable",
        systemd: false,
      }),
      stderr: "",
    };
  return { stdout: "", stderr: "" };
});

import type * as HostModule from "../../../../components/host";
import type * as ReleaseModule from "../../../../components/release";

const KEY = "0123456789abcdef";
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nUNIT-TEST-KEY\n-----END OPENSSH PRIVATE KEY-----\n";
let built = 0;
const fakeBundle = {
  key: KEY,
  machine: "x86_64",
  archivePath: "/cache/geartrain/releases/0123456789abcdef.tar.gz",
  plan: {} as never,
  archive: () => {
    built++;
    return Promise.reject(new Error("no archive under the mocked engine"));
  },
};

describe("InstalledRelease under the mocked engine", () => {
  let host: typeof HostModule;
  let release: typeof ReleaseModule;
  beforeAll(async () => {
    host = await import("../../../../components/host");
    release = await import("../../../../components/release");
  });
  beforeEach(() => resources.splice(0));

  const sshHost = (name: string) =>
    new host.Host(name, {
      connection: { type: "ssh", address: "198.18.0.2", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA" },
      privateKey: pulumi.secret(PRIVATE_KEY),
    });

  it("declares one install child, secret connection, paths under <directory>/releases/<key>", async () => {
    const h = sshHost("node1");
    const r = new release.InstalledRelease("node1-release", { host: h, bundle: fakeBundle });
    await valueOf(r.install.installed);
    await new Promise((res) => setTimeout(res, 50));
    expect(r.node).toBe(`/opt/geartrain/releases/${KEY}/runtime/bin/node`);
    expect(r.entry).toBe(`/opt/geartrain/releases/${KEY}/bin/geartrain`);
    expect(r.version).toBe(KEY);
    expect(r.currentLink).toBe("/opt/geartrain/current");
    expect(r.dependsOn).toEqual([r.install]);
    const children = resources.filter((x) => x.parent.endsWith("geartrain:platform:Release::node1-release"));
    expect(children.map((c) => [c.type, c.name])).toEqual([
      ["pulumi-nodejs:dynamic/geartrain:ReleaseInstall", "node1-release-install"],
    ]);
    const install = children[0];
    expect(install.additionalSecretOutputs).toContain("connection");
    expect(install.dependencies.some((d) => d.endsWith("::node1-wait-ssh"))).toBe(true);
    expect(install.dependencies.some((d) => d.endsWith("::node1-facts"))).toBe(true);
    expect(install.inputs).toMatchObject({
      host: "node1",
      directory: "/opt/geartrain",
      key: KEY,
      archive: fakeBundle.archivePath,
      machine: "x86_64",
      keep: 2,
    });
    // the private key reaches the provider only inside the secret connection
    const plain = JSON.stringify(install.inputs, (_k, v: unknown) =>
      v && typeof v === "object" && (v as Record<string, unknown>)["4dabf18193072939515e22adb298388d"]
        ? "[secret]"
        : v,
    );
    expect(plain).not.toContain("UNIT-TEST-KEY");
    expect(JSON.stringify(install.inputs)).toContain("UNIT-TEST-KEY");
    expect(built).toBe(0); // no engine, no archive
  });

  it("refuses bad args naming the field, before any child", async () => {
    const h = sshHost("node2");
    expect(
      () => new release.InstalledRelease("node2-release", { host: h, bundle: fakeBundle, directory: "/" }),
    ).toThrow("invalid directory:");
    expect(
      () => new release.InstalledRelease("node2-release2", { host: h, bundle: fakeBundle, keep: 0 }),
    ).toThrow("invalid keep:");
    expect(
      () =>
        new release.InstalledRelease("node2-release3", {
          host: h,
          bundle: { ...fakeBundle, key: "../../etc" },
        }),
    ).toThrow("invalid key:");
    await new Promise((res) => setTimeout(res, 50));
    expect(resources.filter((x) => x.name.startsWith("node2-release"))).toHaveLength(3); // the components only
    expect(
      resources.filter((x) => x.name.startsWith("node2-release") && x.name.endsWith("-install")),
    ).toEqual([]);
  });

  it("localRelease: this checkout's programs, its version the package version and the release key", () => {
    const l = release.localRelease();
    expect(l.node).toBe(process.execPath);
    expect(l.entry).toMatch(/\/bin\/geartrain$/);
    expect(l.version).toMatch(/^0\.1\.0\+([0-9a-f]{16}|unbuilt)$/);
    expect(release.localRelease().version).toBe(l.version);
  });
});
