// The release bundle's pure rules and its archive, on a small checkout made in a temp dir: which files and
// packages it carries (dev dependencies, tests, TypeScript sources, nested and .bin folders left out), that
// the same inputs give the same key and the same archive bytes, what changes the key, that GNU tar unpacks it
// with root's ownership and the fixed modes and mtime, and the failures that name their fix.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  archiveEntries,
  ensureArchive,
  planBundle,
  writeArchive,
} from "../../../../components/release/bundle";
import {
  bundleKey,
  isReleaseFile,
  KeyInputs,
  productionPackages,
  releasePaths,
  resolveInstall,
} from "../../../../components/release/resolve";
import { entryHeader, paxRecord, splitUstarPath } from "../../../../components/release/tar";
import { releaseDrift } from "../../../../components/release/provider";

const RUNTIME = { runtimeVersion: "v20.0.0", runtimePlatform: "linux", runtimeArch: "x64" };

const LOCK = {
  name: "geartrain",
  lockfileVersion: 3,
  packages: {
    "": { name: "geartrain", version: "0.1.0" },
    "node_modules/prod": { version: "1.0.0", integrity: "sha512-prod" },
    "node_modules/prod/node_modules/nested": { version: "2.0.0", integrity: "sha512-nested" },
    "node_modules/@scope/pkg": { version: "3.0.0", integrity: "sha512-scoped" },
    "node_modules/opt-missing": { version: "1.0.0", optional: true },
    "node_modules/devpkg": { version: "1.0.0", dev: true },
    "node_modules/typescript": { version: "5.9.3", devOptional: true },
  },
};

let tmp: string;
let checkout: string;

function put(rel: string, content: string, mode = 0o644): void {
  const f = path.join(checkout, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, content, { mode });
  fs.chmodSync(f, mode);
}

function pkg(dir: string, version: string): void {
  put(`${dir}/package.json`, JSON.stringify({ name: path.basename(dir), version }));
  put(`${dir}/index.js`, `module.exports = ${JSON.stringify(dir)};\n`);
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-release-unit-"));
  checkout = path.join(tmp, "checkout");
  put("package.json", JSON.stringify({ name: "geartrain", version: "0.1.0" }));
  put("package-lock.json", JSON.stringify(LOCK));
  put("bin/geartrain", "#!/usr/bin/env node\n", 0o755);
  put("bin/gear-shell", "#!/bin/sh\n", 0o755);
  put("dist/services/cli/main.js", "exports.main = 1;\n");
  put("dist/services/cli/main.js.map", "{}");
  put("dist/services/cli/main.d.ts", "export {};\n");
  put("dist/test/helpers/x.js", "test helper\n");
  put("dist/bench/b.js", "bench\n");
  put("services/cli/main.ts", "source\n");
  put("services/broker/store/migrations/0001_initial.sql", "CREATE TABLE t ();\n");
  put("cartridges/nodejs/bin/control", "#!/bin/bash\n", 0o755);
  put("cartridges/nodejs/metadata/manifest.yml", "Name: nodejs\n");
  put("cartridges/manifest.ts", "source\n");
  put("node/host/selinux/geartrain.te", "policy\n");
  put("node/frontend/templates/gear.conf.hbs", "{{x}}\n");
  put("node/frontend/__snapshots__/x.snap", "snap\n");
  put("node/.swp", "editor\n");
  put("quickstarts/guestbook/server.js", "server\n");
  put("docs/platform.md", "docs\n");
  put("test/unit/x.test.ts", "test\n");
  pkg("node_modules/prod", "1.0.0");
  put("node_modules/prod/lib/run.sh", "#!/bin/sh\n", 0o755);
  put("node_modules/prod/.bin/tool", "bin\n");
  fs.symlinkSync("index.js", path.join(checkout, "node_modules/prod/alias.js"));
  pkg("node_modules/prod/node_modules/nested", "2.0.0");
  pkg("node_modules/@scope/pkg", "3.0.0");
  pkg("node_modules/devpkg", "1.0.0");
  pkg("node_modules/typescript", "5.9.3");
  put("runtime-node", "#!/bin/sh\necho fake node\n", 0o755);
});

afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const plan = () => planBundle(checkout, { ...RUNTIME, runtime: path.join(checkout, "runtime-node") });

describe("file selection", () => {
  it("takes dist/ (no tests, benchmarks or declarations), bin, package.json and the assets, not sources", () => {
    expect(plan().files.map((f) => f.path)).toEqual([
      "bin/gear-shell",
      "bin/geartrain",
      "cartridges/nodejs/bin/control",
      "cartridges/nodejs/metadata/manifest.yml",
      "dist/services/cli/main.js",
      "dist/services/cli/main.js.map",
      "node/frontend/templates/gear.conf.hbs",
      "node/host/selinux/geartrain.te",
      "package.json",
      "quickstarts/guestbook/server.js",
      "services/broker/store/migrations/0001_initial.sql",
    ]);
  });

  it("isReleaseFile: the rule, path by path", () => {
    const yes = [
      "package.json",
      "bin/geartrain",
      "bin/gear-shell",
      "dist/node/index.js",
      "dist/x.json",
      "common/render/templates/a.hbs",
    ];
    const no = [
      "package-lock.json",
      "bin/other",
      "dist/test/a.js",
      "dist/bench/a.js",
      "dist/a.d.ts",
      "dist/a.tsbuildinfo",
      "node/index.ts",
      "node/.hidden",
      "node/x/__snapshots__/a.snap",
      "components/dns/templates/named.conf.hbs",
      "stacks/schema/platform.schema.json",
      "test/x.js",
      "node_modules/a/index.js",
      "cartridges",
    ];
    expect(yes.filter((p) => !isReleaseFile(p))).toEqual([]);
    expect(no.filter(isReleaseFile)).toEqual([]);
  });

  it("takes the production packages of package-lock.json: no dev, no devOptional; an optional one may be absent", () => {
    expect(productionPackages(LOCK).map((p) => p.path)).toEqual([
      "node_modules/@scope/pkg",
      "node_modules/opt-missing",
      "node_modules/prod",
      "node_modules/prod/node_modules/nested",
    ]);
    expect(plan().packages.map((p) => p.path)).toEqual([
      "node_modules/@scope/pkg",
      "node_modules/prod",
      "node_modules/prod/node_modules/nested",
    ]);
  });

  it("the archive: each package once (its nested node_modules by its own entry, no .bin), the runtime, the manifest", () => {
    const entries = archiveEntries(plan());
    const files = entries.filter((e) => e.type !== "directory").map((e) => e.path);
    expect(files.filter((f) => f.startsWith("node_modules/"))).toEqual([
      "node_modules/@scope/pkg/index.js",
      "node_modules/@scope/pkg/package.json",
      "node_modules/prod/alias.js",
      "node_modules/prod/index.js",
      "node_modules/prod/lib/run.sh",
      "node_modules/prod/node_modules/nested/index.js",
      "node_modules/prod/node_modules/nested/package.json",
      "node_modules/prod/package.json",
    ]);
    expect(files).toContain("runtime/bin/node");
    expect(files).toContain("release.json");
    expect(entries.find((e) => e.path === "node_modules/prod/alias.js")).toMatchObject({
      type: "symlink",
      target: "index.js",
    });
    // every directory is there before what it holds
    const seen = new Set<string>();
    for (const e of entries) {
      const parent = path.posix.dirname(e.path.replace(/\/$/, ""));
      if (parent !== ".")
        expect({ e: e.path, parentFirst: seen.has(parent) }).toEqual({ e: e.path, parentFirst: true });
      seen.add(e.path.replace(/\/$/, ""));
    }
  });

  it("refuses lock files without a packages map and links", () => {
    expect(() => productionPackages({ lockfileVersion: 1 })).toThrow(
      "invalid package-lock.json: needs lockfileVersion 2 or 3",
    );
    expect(() =>
      productionPackages({ lockfileVersion: 3, packages: { "node_modules/a": { link: true } } }),
    ).toThrow("node_modules/a is a link");
  });
});

describe("key and archive", () => {
  it("same inputs, same key and the same archive bytes", async () => {
    const a = plan();
    const b = plan();
    expect(a.key).toMatch(/^[0-9a-f]{16}$/);
    expect(b.key).toBe(a.key);
    await writeArchive(a, path.join(tmp, "a.tar.gz"));
    // a later mtime on every source file changes nothing
    const later = new Date(Date.now() + 3600_000);
    for (const f of a.files) fs.utimesSync(f.source, later, later);
    await writeArchive(plan(), path.join(tmp, "b.tar.gz"));
    expect(
      fs.readFileSync(path.join(tmp, "b.tar.gz")).equals(fs.readFileSync(path.join(tmp, "a.tar.gz"))),
    ).toBe(true);
  });

  it("the key changes with the built code, an asset, a package's identity or the runtime, not with a dev package", () => {
    const base = plan().key;
    put("node_modules/devpkg/index.js", "changed\n");
    put("dist/test/helpers/x.js", "changed\n");
    put("services/cli/main.ts", "changed source\n");
    expect(plan().key).toBe(base);
    put("dist/services/cli/main.js", "exports.main = 2;\n");
    const k1 = plan().key;
    expect(k1).not.toBe(base);
    put("cartridges/nodejs/metadata/manifest.yml", "Name: nodejs2\n");
    const k2 = plan().key;
    expect(k2).not.toBe(k1);
    fs.chmodSync(path.join(checkout, "cartridges/nodejs/metadata/manifest.yml"), 0o755);
    expect(plan().key).not.toBe(k2);
    const inputs: KeyInputs = {
      files: [],
      packages: [{ path: "node_modules/a", version: "1", integrity: "x" }],
      runtime: { version: "v20.0.0", platform: "linux", arch: "x64", size: 1 },
    };
    const k = bundleKey(inputs);
    expect(
      bundleKey({ ...inputs, packages: [{ path: "node_modules/a", version: "1", integrity: "y" }] }),
    ).not.toBe(k);
    expect(bundleKey({ ...inputs, runtime: { ...inputs.runtime, version: "v20.0.1" } })).not.toBe(k);
    expect(bundleKey({ ...inputs, runtime: { ...inputs.runtime, arch: "arm64" } })).not.toBe(k);
    // order does not matter
    const two: KeyInputs = {
      ...inputs,
      files: [
        { path: "a", sha256: "1", executable: false },
        { path: "b", sha256: "2", executable: true },
      ],
    };
    expect(bundleKey({ ...two, files: [...two.files].reverse() })).toBe(bundleKey(two));
  });

  it("GNU tar unpacks it: root's files, 0755/0644 by the source's exec bit, the fixed mtime, the manifest", async () => {
    const p = plan();
    const file = path.join(tmp, "r.tar.gz");
    await writeArchive(p, file);
    const listing = execFileSync("tar", ["-tvzf", file, "--numeric-owner"], { encoding: "utf8" });
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 2000-01-01 00:00 bin\/geartrain$/m);
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 +\d+ 2000-01-01 00:00 package\.json$/m);
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 2000-01-01 00:00 node_modules\/prod\/lib\/run\.sh$/m);
    expect(listing).toMatch(/^drwxr-xr-x 0\/0 +0 2000-01-01 00:00 dist\/$/m);
    expect(listing).toMatch(
      /^lrwxrwxrwx 0\/0 +0 2000-01-01 00:00 node_modules\/prod\/alias\.js -> index\.js$/m,
    );
    const out = path.join(tmp, "out");
    fs.mkdirSync(out);
    execFileSync("tar", ["-xzf", file, "-C", out]);
    expect(fs.readFileSync(path.join(out, "runtime/bin/node"), "utf8")).toBe("#!/bin/sh\necho fake node\n");
    expect(JSON.parse(fs.readFileSync(path.join(out, "release.json"), "utf8"))).toEqual({
      format: "geartrain-release-1",
      key: p.key,
      version: "0.1.0",
      node: { version: "v20.0.0", platform: "linux", arch: "x64" },
      entry: "bin/geartrain",
      runtime: "runtime/bin/node",
    });
  });

  it("ensureArchive builds once into the cache, never into the checkout", async () => {
    const cache = path.join(tmp, "cache");
    const p = plan();
    const first = await ensureArchive(p, cache);
    expect(first).toMatchObject({ path: path.join(cache, `${p.key}.tar.gz`), built: true });
    const second = await ensureArchive(p, cache);
    expect(second).toMatchObject({ path: first.path, built: false, sha256: first.sha256 });
    expect(fs.readdirSync(cache)).toEqual([`${p.key}.tar.gz`]);
    await expect(ensureArchive(p, path.join(checkout, ".cache"))).rejects.toThrow("is inside the checkout");
  });

  it("fails naming the fix: dist/ not built, node_modules not matching the lock", () => {
    put("node_modules/prod/package.json", JSON.stringify({ name: "prod", version: "0.9.0" }));
    expect(() => plan()).toThrow("node_modules/prod is 0.9.0, package-lock.json says 1.0.0. Fix: npm ci in");
    fs.rmSync(path.join(checkout, "node_modules/@scope"), { recursive: true });
    pkg("node_modules/prod", "1.0.0");
    expect(() => plan()).toThrow("node_modules/@scope/pkg is not installed. Fix: npm ci in");
    fs.rmSync(path.join(checkout, "dist"), { recursive: true });
    expect(() => plan()).toThrow(
      "dist/services/cli/main.js is missing: the release ships the built code. Fix: npm run build",
    );
  });
});

describe("tar headers", () => {
  it("a long path goes into prefix + name, a longer one into a pax record GNU tar reads", async () => {
    expect(splitUstarPath("a/b")).toEqual({ prefix: "", name: "a/b" });
    const long = `${"d".repeat(120)}/${"f".repeat(90)}`;
    expect(splitUstarPath(long)).toEqual({ prefix: "d".repeat(120), name: "f".repeat(90) });
    expect(splitUstarPath(`${"d".repeat(200)}/${"f".repeat(90)}`)).toBeNull();
    for (const [k, v] of [
      ["path", "x"],
      ["path", "y".repeat(95)],
      ["path", "z".repeat(994)],
    ]) {
      const r = paxRecord(k, v);
      expect(Number(r.split(" ")[0])).toBe(Buffer.byteLength(r));
    }
    // an archive with a 300-character path, unpacked by GNU tar
    const deep = `node_modules/${"p".repeat(150)}/${"q".repeat(150)}/index.js`;
    const header = entryHeader({ type: "file", path: deep, size: 3, executable: false });
    const file = path.join(tmp, "deep.tar");
    fs.writeFileSync(
      file,
      Buffer.concat([header, Buffer.from("ok\n"), Buffer.alloc(509), Buffer.alloc(1024)]),
    );
    expect(execFileSync("tar", ["-tf", file], { encoding: "utf8" })).toBe(`${deep}\n`);
    expect(() => entryHeader({ type: "file", path: "../x", size: 0, executable: false })).toThrow("no '..'");
  });
});

describe("install args and host state", () => {
  it("resolveInstall: defaults, and each bad value named", () => {
    expect(resolveInstall({})).toEqual({ directory: "/opt/geartrain", keep: 2 });
    for (const [args, field] of [
      [{ directory: "opt/geartrain" }, "directory"],
      [{ directory: "/opt" }, "directory"],
      [{ directory: "/opt/../etc" }, "directory"],
      [{ directory: "/opt/geartrain/" }, "directory"],
      [{ directory: "/opt/gear train" }, "directory"],
      [{ keep: 0 }, "keep"],
      [{ keep: 1.5 }, "keep"],
      [{ keep: 11 }, "keep"],
    ] as const) {
      expect(() => resolveInstall(args)).toThrow(`invalid ${field}:`);
    }
    expect(releasePaths("/opt/geartrain", "0123456789abcdef")).toEqual({
      directory: "/opt/geartrain",
      releases: "/opt/geartrain/releases",
      release: "/opt/geartrain/releases/0123456789abcdef",
      node: "/opt/geartrain/releases/0123456789abcdef/runtime/bin/node",
      entry: "/opt/geartrain/releases/0123456789abcdef/bin/geartrain",
      current: "/opt/geartrain/current",
    });
  });

  it("releaseDrift: in place, missing, or not current", () => {
    const k = "0123456789abcdef";
    expect(releaseDrift({ machine: "x86_64", current: k, releases: [k] }, k)).toEqual([]);
    expect(releaseDrift({ machine: "x86_64", current: "", releases: [] }, k)).toEqual([
      `release ${k} is not installed`,
    ]);
    expect(
      releaseDrift({ machine: "x86_64", current: "fedcba9876543210", releases: ["fedcba9876543210", k] }, k),
    ).toEqual([`current points at fedcba9876543210, not ${k}`]);
  });
});
