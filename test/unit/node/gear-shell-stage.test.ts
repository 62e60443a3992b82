// The stages of the SSH forced command (node/deploy/shell.ts): without SELinux one plain stage; under SELinux
// a relay outside the gear domain that starts the second stage, which must find itself in the gear domain at
// exactly the gear's level. The contexts are given (this host has no SELinux); the VM tier runs the real thing.

import { sessionStage } from "../../../node/deploy/shell";
import { GEAR_DOMAIN } from "../../../node/host/selinux/label";

const LABEL = "s0:c1,c2";
const ctx = (c: string) => () => Promise.resolve(c);
const unread = () => Promise.reject(new Error("read /proc/self/attr/current: EINVAL"));

describe("sessionStage", () => {
  it("without SELinux: one plain stage, no context read", async () => {
    await expect(sessionStage("unavailable", false, LABEL, unread)).resolves.toEqual({ stage: "plain" });
  });

  it("outside the gear domain (sshd's login mapping: unconfined_t): the relay", async () => {
    const c = "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023";
    await expect(sessionStage("enforcing", false, LABEL, ctx(c))).resolves.toEqual({
      stage: "relay",
      context: c,
    });
    await expect(sessionStage("permissive", false, LABEL, ctx(c))).resolves.toMatchObject({ stage: "relay" });
  });

  it("already in the gear domain at the gear's level (a login mapping that puts it there): no relay", async () => {
    const c = `unconfined_u:unconfined_r:${GEAR_DOMAIN}:${LABEL}`;
    await expect(sessionStage("enforcing", false, LABEL, ctx(c))).resolves.toEqual({
      stage: "in-domain",
      context: c,
    });
  });

  it("the second stage in the gear domain at the gear's level, whatever status it could read", async () => {
    const c = `unconfined_u:unconfined_r:${GEAR_DOMAIN}:${LABEL}`;
    for (const st of ["enforcing", "permissive", "unavailable"] as const)
      await expect(sessionStage(st, true, LABEL, ctx(c))).resolves.toMatchObject({ stage: "in-domain" });
  });

  it("refuses: the second stage outside the gear domain (the transition did not happen)", async () => {
    await expect(
      sessionStage("enforcing", true, LABEL, ctx("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023")),
    ).rejects.toThrow(/not in geartrain_gear_t at s0:c1,c2/);
    await expect(sessionStage("unavailable", true, LABEL, unread)).rejects.toThrow(/EINVAL/);
  });

  it("refuses: the gear domain at another gear's level, in either stage", async () => {
    const other = `system_u:system_r:${GEAR_DOMAIN}:s0:c3,c4`;
    await expect(sessionStage("enforcing", true, LABEL, ctx(other))).rejects.toThrow(/at s0:c3,c4/);
    await expect(sessionStage("enforcing", false, LABEL, ctx(other))).rejects.toThrow(
      /not at this gear's level/,
    );
  });
});
