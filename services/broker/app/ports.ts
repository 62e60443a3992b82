// What the application service needs of the world besides the store: the node bus (services/bus NodeBus
// satisfies NodeCaller) and DNS (services/broker/dns DnsUpdater satisfies DnsPort). Narrow on purpose, so unit
// tests can give fakes and the service never depends on a transport's details.

export interface NodeCallOptions {
  readonly timeoutMs?: number;
  /** correlation id = idempotency key: a chain step passes a stable one, so a resumed step is not run twice */
  readonly id?: string;
}

export interface NodeCaller {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call(node: string, action: any, args: any, opts?: NodeCallOptions): Promise<unknown>;
  nodeStatus(node: string): {
    readonly status: "responsive" | "unresponsive";
    readonly lastHeard: number | null;
  };
}

export interface DnsPort {
  upsert(
    records: readonly { name: string; type: "A" | "CNAME"; value: string; ttl?: number }[],
  ): Promise<void>;
  remove(names: readonly { name: string; type: "A" | "CNAME" }[]): Promise<void>;
}

export interface ServiceLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface ServiceConfig {
  /** the cloud domain: apps are <app>-<namespace>.<cloudDomain> */
  readonly cloudDomain: string;
  /** this broker process's id (pending operations it holds carry it) */
  readonly brokerId: string;
  readonly defaultProfile: string;
  /** deadline of a node call (gear create, route, keys ...) */
  readonly nodeTimeoutMs: number;
  /** deadline of a cartridge install or control (hooks run) */
  readonly cartridgeTimeoutMs: number;
  /** the port of the nodes' sshd in git_url / ssh_url (22: none in the URL) */
  readonly sshPort: number;
  /** a node is responsive when heard from within this (placement skips the others) */
  readonly silenceMs: number;
}
