// Types for the Host component: how Geartrain reaches a machine and what it runs there.
import * as pulumi from "@pulumi/pulumi";

/** This machine: commands run as the user running `pulumi up` (the dev stack). */
export interface LocalConnection {
  readonly type: "local";
}

/** A remote machine reached over SSH with a pinned host key. */
export interface SshConnection {
  readonly type: "ssh";
  /** IPv4 address or DNS name. @example "10.0.0.5" */
  readonly address: string;
  /** @default 22 */
  readonly port?: number;
  /** @default "root" */
  readonly user?: string;
  /** The server's public host key (`ssh-ed25519 AAAA...`); connections to any other key fail. */
  readonly hostKey: string;
  /** Seconds each dial may take. @default 15 */
  readonly perDialTimeout?: number;
  /** Dial attempts before a command fails (-1: unlimited). @default 10 */
  readonly dialErrorLimit?: number;
}

export type HostConnection = LocalConnection | SshConnection;

export interface HostArgs {
  /** How to reach the host. */
  readonly connection: HostConnection;
  /** SSH private key (a Pulumi secret); required for `ssh` connections. */
  readonly privateKey?: pulumi.Input<string>;
  /**
   * How long to wait for SSH to answer before giving up on a new host.
   * @default "10m"
   */
  readonly sshWaitTimeout?: string;
  /**
   * The wait-for-SSH gate's retry budget: dial attempts (0.5 s, 1 s, 2 s, 4 s, then 5 s apart) before
   * `up` fails with "could not connect to <address> after N attempts"; `sshWaitTimeout` bounds it too.
   * -1: no limit but the timeout.
   * @default 60
   */
  readonly sshWaitAttempts?: number;
  /**
   * Directory of the host's Services (components/host/service): the private runit tree where systemd is
   * not PID 1, and the services' environment files and checks. Absolute.
   * @default "/var/lib/geartrain/services"
   */
  readonly serviceDirectory?: string;
  /**
   * The directory the host's components keep their state under (the Platform's data directory). Made
   * (0755 root) before any command of the host when it is missing; on destroy, after every other command
   * of the host, removed if this Host made it and it is empty (else kept, with a warning on stderr). Absolute.
   * @default none (each component makes and removes its own directories only)
   */
  readonly dataDirectory?: string;
}

export interface HostCommandArgs {
  /** Script run by bash (with `set -euo pipefail`) when the resource is created. */
  readonly create: pulumi.Input<string>;
  /** Script run when inputs change; defaults to `create` again. */
  readonly update?: pulumi.Input<string>;
  /** Script run when the resource is deleted. */
  readonly delete?: pulumi.Input<string>;
  /** Values the scripts read as environment variables (never pasted into the script text). */
  readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Standard input for the scripts. */
  readonly stdin?: pulumi.Input<string>;
  /** Changes to these values replace the command (delete, then create). Use content hashes. */
  readonly triggers?: pulumi.Input<unknown[]>;
  /** The scripts see secrets: nothing of their output is logged and stdout/stderr are secret. */
  readonly secret?: boolean;
}

export interface HostFileArgs {
  /** Absolute path on the host. */
  readonly path: string;
  readonly content: pulumi.Input<string>;
  /** Octal mode. @default "0644" */
  readonly mode?: string;
  /** `user:group` owner. @default "root:root" */
  readonly owner?: string;
  /** The content is secret (mode should then be 0600/0640). */
  readonly secret?: boolean;
}

/** What Geartrain needs to know about a host before it configures it. */
export interface HostFacts {
  readonly kernel: string;
  readonly os: string;
  readonly cgroup: "v1" | "v2";
  readonly selinux: "enforcing" | "permissive" | "unavailable";
  /** systemd runs as PID 1 (`/run/systemd/system` exists): Services use it; otherwise a private runit. */
  readonly systemd: boolean;
}

export const DEFAULTS = {
  sshPort: 22,
  sshUser: "root",
  sshWaitTimeout: "10m",
  sshWaitAttempts: 60,
  serviceDirectory: "/var/lib/geartrain/services",
  /** Each dial waits this long; the wait command retries without limit until its timeout. */
  perDialTimeoutSeconds: 15,
  dialErrorLimit: 10,
  fileMode: "0644",
  fileOwner: "root:root",
} as const;
