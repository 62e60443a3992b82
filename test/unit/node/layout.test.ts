import { defaultConfig } from "../../../node/config";
import { systemEnv } from "../../../node/gear/env";
import { homeLayout } from "../../../node/gear/home";
import { renderLimits } from "../../../node/host/pam-limits";
import type { GearSpec } from "../../../node/types";

const config = defaultConfig();
const spec: GearSpec = {
  uuid: "0123456789abcdef0123456789abcdef",
  uid: 1000,
  app: "myapp",
  namespace: "dev",
  profile: "small",
  env: { FOO: "bar" },
};

test("home layout: the issue's subset with reference modes and owners", () => {
  const dirs = homeLayout(spec, config)
    .filter((e) => e.type === "dir")
    .map((e) => `${e.rel} ${e.mode.toString(8).padStart(4, "0")} ${e.owner}:${e.group}`);
  expect(dirs).toEqual([
    ". 0750 root:gear",
    ".env 0750 root:gear",
    ".env/user_vars 0750 root:gear",
    ".ssh 0750 root:gear",
    ".tmp 0000 root:gear",
    "app-root 0750 root:gear",
    "app-root/data 0750 gear:gear",
    "app-root/logs 0750 gear:gear",
    "app-root/runtime 0750 gear:gear",
    "app-root/runtime/repo 0750 gear:gear",
    "git 0750 root:gear",
    "git/myapp.git 0750 gear:gear",
    "git/myapp.git/hooks 0755 root:gear",
    "git/myapp.git/objects 0750 gear:gear",
    "git/myapp.git/refs 0750 gear:gear",
    "git/myapp.git/refs/heads 0750 gear:gear",
    "git/myapp.git/refs/tags 0750 gear:gear",
  ]);
  // parents always come before children
  const rels = homeLayout(spec, config).map((e) => e.rel);
  rels.forEach((r, i) => {
    const parent = r.includes("/") ? r.slice(0, r.lastIndexOf("/")) : ".";
    if (r !== ".") expect(rels.indexOf(parent)).toBeLessThan(i);
  });
});

test("env files: prefixed OpenShift names, deterministic, user vars apart", () => {
  expect(systemEnv(spec, config)).toEqual({
    GEARTRAIN_APP_DNS: "myapp-dev.example.com",
    GEARTRAIN_APP_NAME: "myapp",
    GEARTRAIN_DATA_DIR: "/var/lib/geartrain/0123456789abcdef0123456789abcdef/app-root/data/",
    GEARTRAIN_GEAR_DNS: "myapp-dev.example.com",
    GEARTRAIN_GEAR_MEMORY_MB: "512",
    GEARTRAIN_GEAR_PROFILE: "small",
    GEARTRAIN_GEAR_UUID: "0123456789abcdef0123456789abcdef",
    GEARTRAIN_HOMEDIR: "/var/lib/geartrain/0123456789abcdef0123456789abcdef/",
    GEARTRAIN_LOG_DIR: "/var/lib/geartrain/0123456789abcdef0123456789abcdef/app-root/logs/",
    GEARTRAIN_NAMESPACE: "dev",
    GEARTRAIN_REPO_DIR: "/var/lib/geartrain/0123456789abcdef0123456789abcdef/app-root/runtime/repo/",
    GEARTRAIN_TMP_DIR: "/tmp/",
    HISTFILE: "/var/lib/geartrain/0123456789abcdef0123456789abcdef/app-root/data/.bash_history",
    HOME: "/var/lib/geartrain/0123456789abcdef0123456789abcdef",
    TMP: "/tmp/",
    TMPDIR: "/tmp/",
  });
  const uv = homeLayout(spec, config).filter((e) => e.rel.startsWith(".env/user_vars/"));
  expect(uv).toEqual([
    {
      rel: ".env/user_vars/FOO",
      type: "file",
      mode: 0o640,
      owner: "root",
      group: "gear",
      content: "bar",
      exact: true,
    },
  ]);
  expect(homeLayout(spec, config)).toEqual(homeLayout(spec, config));
});

test("PAM limits file", () => {
  expect(renderLimits(spec.uuid, 250)).toBe(
    "# Managed by Geartrain (node operations); do not edit.\n" +
      "0123456789abcdef0123456789abcdef soft nproc 250\n0123456789abcdef0123456789abcdef hard nproc 250\n",
  );
});
