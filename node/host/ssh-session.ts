// sshd's own processes of a gear's ssh session (a git push), told apart from anything else (pure). On a node,
// sshd runs one process per session as the gear's uid (`sshd: <uuid>@notty`, in sshd_t under SELinux:
// Debian's sshd does not move it into the user's context) and, on cgroup v2, its privileged session process
// (root, `sshd: <uuid> [priv]`) sits in the gear's cgroup, where the PAM session hook gear-pam-attach moved it
// so that the session forks inside (docs/node-operations.md, "git push deploys"). Both run sshd itself.

/** sshd's program (Debian and RHEL) and its SELinux domain. */
export const SSHD_EXE = "/usr/sbin/sshd";
export const SSHD_DOMAIN = "sshd_t";

/**
 * Whether a process is sshd: it runs /usr/sbin/sshd (`/proc/<pid>/exe`; null: unread) and, where SELinux is
 * enabled (`type`: its domain; undefined: SELinux unavailable), runs in sshd's domain.
 */
export function isSshdProcess(exe: string | null, type?: string | null): boolean {
  if (exe !== SSHD_EXE) return false;
  return type === undefined || type === SSHD_DOMAIN;
}

/**
 * A process of another uid inside a gear's cgroup that belongs there: sshd's privileged session process
 * (root, running sshd), which gear-pam-attach moves into the gear's cgroup on cgroup v2.
 */
export function isSshdPrivilegedSession(uid: number, exe: string | null, type?: string | null): boolean {
  return uid === 0 && isSshdProcess(exe, type);
}
