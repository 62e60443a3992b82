// The drift rules the host facets own (pure): one field, an account, cgroup files (swap accounting),
// a disk limit (quota rounding) and a network state.

import { fieldDrift } from "../../../node/drift";
import { accountDrift } from "../../../node/host/accounts";
import { cgroupDrift } from "../../../node/host/cgroups/drift";
import { v1Files, v2Files } from "../../../node/host/cgroups/limits";
import { diskDrift } from "../../../node/host/disk";
import { networkDrift } from "../../../node/host/netfilter";
import { defaultConfig } from "../../../node/config";

const small = defaultConfig().profiles.small;

test("fieldDrift: equal values are no drift; absent values read none / missing", () => {
  expect(fieldDrift("f", 5, "5")).toEqual([]);
  expect(fieldDrift("f", 5, 6)).toEqual([{ field: "f", expected: "5", actual: "6" }]);
  expect(fieldDrift("f", null, "x")).toEqual([{ field: "f", expected: "none", actual: "x" }]);
  expect(fieldDrift("f", "x", undefined)).toEqual([{ field: "f", expected: "x", actual: "missing" }]);
});

test("accountDrift: a missing user reports only presence and the group; a changed user every field", () => {
  const want = { uid: 5000, home: "/var/lib/gt/a", shell: "/bin/bash" };
  expect(accountDrift(want, null, null)).toEqual([
    { field: "user", expected: "present", actual: "missing" },
    { field: "group.gid", expected: "5000", actual: "missing" },
  ]);
  const user = { name: "a", uid: 5001, gid: 5002, gecos: "g", home: "/h", shell: "/bin/sh" };
  expect(accountDrift(want, user, { name: "a", gid: 5000 }).map((d) => d.field)).toEqual([
    "user.uid",
    "user.gid",
    "user.home",
    "user.shell",
  ]);
  expect(
    accountDrift(
      want,
      { ...user, uid: 5000, gid: 5000, home: "/var/lib/gt/a", shell: "/bin/bash" },
      {
        name: "a",
        gid: 5000,
      },
    ),
  ).toEqual([]);
});

test("cgroupDrift: a missing swap file beside a memory limit is no drift; without memory it is", () => {
  const v2 = v2Files(small);
  const values = Object.fromEntries(v2.map((f) => [`${f.controller}/${f.file}`, f.value]));
  expect(cgroupDrift("v2", v2, values)).toEqual([]);
  expect(cgroupDrift("v2", v2, { ...values, "unified/memory.swap.max": null })).toEqual([]);
  expect(
    cgroupDrift("v2", v2, { ...values, "unified/memory.swap.max": null, "unified/memory.max": null }).map(
      (d) => d.field,
    ),
  ).toEqual(["cgroup:unified/memory.max", "cgroup:unified/memory.swap.max"]);
  const v1 = v1Files(small);
  const v1Values = Object.fromEntries(v1.map((f) => [`${f.controller}/${f.file}`, f.value]));
  expect(cgroupDrift("v1", v1, { ...v1Values, "memory/memory.memsw.limit_in_bytes": null })).toEqual([]);
  expect(cgroupDrift("v1", v1, { ...v1Values, "pids/pids.max": "7" })).toEqual([
    { field: "cgroup:pids/pids.max", expected: String(small.pids), actual: "7" },
  ]);
});

test("diskDrift: quota limits compare in whole KiB, loop limits exactly; unenforced compares nothing", () => {
  const p = { ...small, diskBytes: 10 * 1024 + 500 };
  const state = (limitBytes: number | null, enforced = true) => ({
    mode: "quota" as const,
    enforced,
    limitBytes,
    limitFiles: null,
    detail: "",
  });
  expect(diskDrift("quota", p, state(10 * 1024))).toEqual([]);
  expect(diskDrift("loop", p, state(10 * 1024))).toEqual([
    { field: "disk.limitBytes", expected: String(p.diskBytes), actual: String(10 * 1024) },
  ]);
  expect(diskDrift("quota", p, state(null, false))).toEqual([
    { field: "disk.enforced", expected: "true", actual: "false" },
  ]);
  expect(diskDrift("unenforced", p, state(null, false))).toEqual([]);
});

test("networkDrift: a working backend without the gear's rules is drift; no backend is not", () => {
  expect(networkDrift({ mode: "nftables", enforced: false, detail: "missing: x" })).toEqual([
    { field: "network", expected: "isolation rules installed", actual: "missing: x" },
  ]);
  expect(networkDrift({ mode: "iptables", enforced: true, detail: "" })).toEqual([]);
  expect(networkDrift({ mode: "unavailable", enforced: false, detail: "no nft" })).toEqual([]);
});
