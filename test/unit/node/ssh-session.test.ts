// sshd's own processes of a gear's ssh session (node/host/ssh-session.ts): the program and, under SELinux, the
// domain say what is sshd; only root's sshd process belongs in a gear's cgroup besides the gear's own.

import { isSshdPrivilegedSession, isSshdProcess, SSHD_EXE } from "../../../node/host/ssh-session";

describe("isSshdProcess", () => {
  it("sshd's program, in sshd's domain where SELinux is enabled", () => {
    expect(isSshdProcess(SSHD_EXE, "sshd_t")).toBe(true);
    expect(isSshdProcess(SSHD_EXE)).toBe(true); // SELinux unavailable: the program alone
  });
  it("not another program, an unread one, or sshd in another domain", () => {
    expect(isSshdProcess("/bin/sh", "sshd_t")).toBe(false);
    expect(isSshdProcess("/usr/sbin/sshd (deleted)", "sshd_t")).toBe(false);
    expect(isSshdProcess("/usr/local/sbin/sshd")).toBe(false);
    expect(isSshdProcess(null, "sshd_t")).toBe(false);
    expect(isSshdProcess(null)).toBe(false);
    expect(isSshdProcess(SSHD_EXE, "unconfined_t")).toBe(false);
    expect(isSshdProcess(SSHD_EXE, null)).toBe(false); // SELinux on, context unread
  });
});

describe("isSshdPrivilegedSession", () => {
  it("root running sshd (in sshd_t under SELinux)", () => {
    expect(isSshdPrivilegedSession(0, SSHD_EXE, "sshd_t")).toBe(true);
    expect(isSshdPrivilegedSession(0, SSHD_EXE)).toBe(true);
  });
  it("not another uid, another program, or sshd's program outside its domain", () => {
    expect(isSshdPrivilegedSession(1002, SSHD_EXE, "sshd_t")).toBe(false);
    expect(isSshdPrivilegedSession(0, "/usr/bin/python3", "sshd_t")).toBe(false);
    expect(isSshdPrivilegedSession(0, SSHD_EXE, "unconfined_t")).toBe(false);
  });
});
