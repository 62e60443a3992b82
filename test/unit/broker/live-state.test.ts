// The broker's live view of a gear (services/broker/app/live-state.ts liveGear, pure): the node's
// gear.inspect and frontend.read answers as the reconciling clients read them.
import { liveGear } from "../../../services/broker/app/live-state";

const rec = { uuid: "a".repeat(32), uid: 65000, node: "n1" };

test("a gear the node has: profile, MCS label, cgroup values, drift, cartridge status, route", () => {
  const v = liveGear(
    rec,
    {
      phase: "created",
      spec: { profile: "small" },
      selinux: { label: "s0:c1,c2" },
      cgroup: { values: { "memory/memory.limit_in_bytes": "134217728" } },
      drift: [{ field: "cgroup:memory/memory.limit_in_bytes", expected: "536870912", actual: "134217728" }],
      cartridges: [
        { name: "nodejs", version: "20", phase: "installed", desired: "stopped", status: "stopped" },
        { name: "stray", version: null, phase: "unrecorded", desired: null, status: "unknown" },
      ],
    },
    { hostnames: ["web1-ns1.apps.test"] },
  );
  expect(v).toEqual({
    ...rec,
    present: true,
    error: null,
    phase: "created",
    profile: "small",
    mcsLabel: "s0:c1,c2",
    cgroup: { "memory/memory.limit_in_bytes": "134217728" },
    drift: [{ field: "cgroup:memory/memory.limit_in_bytes", expected: "536870912", actual: "134217728" }],
    cartridges: [{ name: "nodejs-20", status: "stopped", desired: "stopped" }],
    route: { hostnames: ["web1-ns1.apps.test"], idle: false },
  });
});

test("a gear the node lacks, or a node that cannot be asked, is not present", () => {
  expect(liveGear(rec, null, null)).toMatchObject({
    present: false,
    error: null,
    cartridges: [],
    route: null,
  });
  expect(liveGear(rec, null, null, "node n1 did not answer")).toMatchObject({
    present: false,
    error: "node n1 did not answer",
  });
});
