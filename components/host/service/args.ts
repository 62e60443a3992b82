// Types of a Service: one long-lived daemon on a Host, run by systemd where the host has it as PID 1 and
// by a private runit supervisor (runsvdir + sv) where it does not. docs/services.md says how each works.
import * as pulumi from "@pulumi/pulumi";
import type { Service } from "./index";

/** When the supervisor starts the daemon again after it exited. */
export type RestartPolicy = "always" | "on-failure" | "no";

/** Signals a service may be stopped with (names as `kill -s` takes them). */
export const STOP_SIGNALS = ["TERM", "INT", "QUIT", "HUP", "KILL", "USR1", "USR2"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Which supervisor runs the service; normally chosen from the host's facts. */
export type ServiceBackend = "systemd" | "runit";

/** A TCP port that accepts connections once the service is ready. */
export interface TcpReadiness {
  /** Address the check connects to, on the service's host. @example "127.0.0.1" */
  readonly address: string;
  readonly port: number;
}

/**
 * How `up` knows the service is ready: a TCP connect, or a command (argv, run on the host as the service's
 * user in its working directory, without the service's environment) that exits 0. Exactly one of them.
 */
export interface ReadinessCheck {
  readonly tcp?: TcpReadiness;
  /** @example ["/usr/bin/pg_isready", "-h", "127.0.0.1", "-p", "5433"] */
  readonly command?: readonly string[];
  /** Checks before giving up. @default 60 */
  readonly attempts?: number;
  /** Seconds between two checks. @default 1 */
  readonly intervalSeconds?: number;
}

/** One daemon, declared once; the backend-specific definition is rendered from it. */
export interface ServiceArgs {
  /**
   * The service's name on the host (`geartrain-<name>.service`, or the runit directory `<name>`).
   * Lowercase letters, digits and '-', starting with a letter, at most 40 characters.
   * @example "postgresql"
   */
  readonly name: string;
  /** The program and its arguments; the program is an absolute path. Never put secrets here. @example ["/usr/bin/python3", "-m", "http.server"] */
  readonly command: readonly string[];
  /** User the daemon runs as. @default "root" */
  readonly user?: string;
  /** Group the daemon runs as. @default the user's primary group ("root" for root) */
  readonly group?: string;
  /** Working directory (absolute). @default "/" */
  readonly workingDirectory?: string;
  /**
   * Environment of the daemon. Values may be Pulumi secrets: they are written to a 0600 file read by the
   * supervisor, never to the command line or the unit text, and stay secret in the state.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, pulumi.Input<string>>>;
  /** @default "always" */
  readonly restart?: RestartPolicy;
  /** How `up` waits for the service after starting it. @default none (started is ready) */
  readonly readiness?: ReadinessCheck;
  /** Signal the daemon is stopped with. @default "TERM" */
  readonly stopSignal?: StopSignal;
  /** Seconds between the stop signal and SIGKILL. @default 10 */
  readonly stopTimeoutSeconds?: number;
  /**
   * Services of the same host this one needs: it is created after them, and the supervisor starts it only
   * when they are up (systemd `Requires=`/`After=`; runit: its run script waits for `sv check`).
   * @default []
   */
  readonly requires?: readonly Service[];
  /** Overrides the backend the host's facts choose (tests; hosts whose facts are wrong). @default from facts */
  readonly backend?: ServiceBackend;
}

export const SERVICE_DEFAULTS = {
  user: "root",
  workingDirectory: "/",
  restart: "always" as RestartPolicy,
  stopSignal: "TERM" as StopSignal,
  stopTimeoutSeconds: 10,
  readinessAttempts: 60,
  readinessIntervalSeconds: 1,
  /** Where Services keep their files on a host (runit tree, environment files); HostArgs.serviceDirectory. */
  serviceDirectory: "/var/lib/geartrain/services",
  /** systemd units are written here. */
  systemdUnitDirectory: "/etc/systemd/system",
} as const;
