// The one module that talks to @stomp/stompjs: a STOMP 1.2 connection to ActiveMQ over our TCP or TLS socket
// (socket.ts; TLS with the server's certificate verified against a given CA and name) that reconnects with exponential backoff and subscribes again after every (re)connect (stompjs
// restores no subscription). A publish while disconnected throws UnavailableError instead of being queued
// or silently dropped: the caller decides (NodeBus fails the call; nothing assumes it arrived).
// Passwords are only in the CONNECT frame; stompjs's debug output (which would print it) stays off.

import { Client, ReconnectionTimeMode, type IMessage, type StompHeaders } from "@stomp/stompjs";
import { UnavailableError } from "../../common/errors";
import { TcpStompSocket, type BusTlsOptions } from "./socket";

export type { BusTlsOptions } from "./socket";

export type BusLog = (level: "info" | "warn" | "error", message: string) => void;

export interface BusConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** who is connecting, for log lines ("agent node1", "broker b-1") */
  readonly name: string;
  /** STOMP over TLS, the server's certificate verified (default: plain STOMP) */
  readonly tls?: BusTlsOptions;
  /** TCP_NODELAY (default true; false only to measure it, bench/bus-roundtrip.ts) */
  readonly noDelay?: boolean;
  /** STOMP heart-beats both ways, ms (default 10000; the broker allows twice that) */
  readonly heartbeatMs?: number;
  /** first reconnect delay (default 500 ms), doubled up to maxReconnectDelayMs (default 30000) */
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
  readonly log?: BusLog;
}

export interface BusMessage {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  ack(): void;
  nack(): void;
}

interface Subscription {
  readonly destination: string;
  readonly headers: StompHeaders;
  readonly handler: (m: BusMessage) => void;
  active: { unsubscribe(): void } | null;
}

export class BusConnection {
  private readonly client: Client;
  private readonly subs = new Set<Subscription>();
  private readonly connectListeners = new Set<() => void>();
  private readonly disconnectListeners = new Set<() => void>();
  private readonly log: BusLog;
  private isConnected = false;
  private stopped = false;
  private socket: TcpStompSocket | null = null;
  /** how many times a CONNECTED frame arrived (reconnects = connects - 1) */
  connects = 0;
  private lastError: string | null = null;
  private loggedError: string | null = null;

  constructor(private readonly opts: BusConnectionOptions) {
    this.log = opts.log ?? (() => undefined);
    const hb = opts.heartbeatMs ?? 10000;
    this.client = new Client({
      webSocketFactory: () =>
        (this.socket = new TcpStompSocket({
          host: opts.host,
          port: opts.port,
          noDelay: opts.noDelay ?? true,
          ...(opts.tls ? { tls: opts.tls } : {}),
        })),
      connectHeaders: { login: opts.user, passcode: opts.password, host: "/" },
      heartbeatIncoming: hb,
      heartbeatOutgoing: hb,
      reconnectDelay: opts.reconnectDelayMs ?? 500,
      reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
      maxReconnectDelay: opts.maxReconnectDelayMs ?? 30000,
      // the handshake deadline is the socket's (establishTimeoutMs): stompjs's own timer outlives deactivate()
      connectionTimeout: 0,
      discardWebsocketOnCommFailure: true,
      debug: () => undefined,
    });
    this.client.onConnect = () => {
      this.socket?.established();
      this.isConnected = true;
      this.connects++;
      this.lastError = null;
      this.loggedError = null;
      const over = this.socket?.serverName ? ` over TLS (certificate of ${this.socket.serverName})` : "";
      this.log("info", `${opts.name}: connected to ${opts.host}:${opts.port}${over} as ${opts.user}`);
      for (const s of this.subs) this.activate(s);
      for (const l of this.connectListeners) l();
    };
    this.client.onWebSocketClose = () => {
      const was = this.isConnected;
      this.isConnected = false;
      for (const s of this.subs) s.active = null;
      if (was && !this.stopped) {
        this.log("warn", `${opts.name}: connection to ${opts.host}:${opts.port} lost; reconnecting`);
        for (const l of this.disconnectListeners) l();
      }
    };
    this.client.onStompError = (frame) => {
      // ERROR frames carry no secret (the broker's message, e.g. "User x is not authorized to read ...")
      this.lastError = frame.headers.message ?? frame.body;
      this.log("error", `${opts.name}: broker error: ${this.lastError}`);
    };
    this.client.onWebSocketError = (err: unknown) => {
      this.lastError = (err as Error)?.message ?? String(err);
      // a refused certificate does not heal by retrying: say so once (until a connect succeeds)
      if (this.lastError.startsWith("TLS: ") && this.lastError !== this.loggedError) {
        this.loggedError = this.lastError;
        this.log("error", `${opts.name}: ${opts.host}:${opts.port}: ${this.lastError}`);
      }
    };
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** the last ERROR frame's message or socket error since the last connect */
  get error(): string | null {
    return this.lastError;
  }

  start(): void {
    this.client.activate();
  }

  /** Wait for a connection (throws UnavailableError naming the broker address after timeoutMs). */
  async waitConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connectListeners.delete(done);
        reject(
          new UnavailableError(
            `${this.opts.name}: no connection to the message bus at ${this.opts.host}:${this.opts.port} ` +
              `within ${timeoutMs} ms${this.lastError ? ` (${this.lastError})` : ""}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.connectListeners.delete(done);
        resolve();
      };
      this.connectListeners.add(done);
    });
  }

  onConnected(l: () => void): void {
    this.connectListeners.add(l);
  }

  onDisconnected(l: () => void): void {
    this.disconnectListeners.add(l);
  }

  /** Subscribe now if connected, and again after every reconnect. */
  subscribe(destination: string, handler: (m: BusMessage) => void, headers: StompHeaders = {}): () => void {
    const s: Subscription = { destination, headers, handler, active: null };
    this.subs.add(s);
    if (this.isConnected) this.activate(s);
    return () => {
      this.subs.delete(s);
      if (this.isConnected) s.active?.unsubscribe();
      s.active = null;
    };
  }

  private activate(s: Subscription): void {
    s.active = this.client.subscribe(
      s.destination,
      (m: IMessage) =>
        s.handler({
          body: m.body,
          headers: m.headers as Record<string, string>,
          ack: () => m.ack(),
          nack: () => m.nack(),
        }),
      { ...s.headers },
    );
  }

  /** Send now, or throw UnavailableError when not connected (nothing is queued). */
  publish(destination: string, body: string, headers: StompHeaders = {}): void {
    if (!this.isConnected || !this.client.connected)
      throw new UnavailableError(
        `${this.opts.name}: not connected to the message bus at ${this.opts.host}:${this.opts.port}`,
      );
    this.client.publish({ destination, body, headers: { "content-type": "application/json", ...headers } });
  }

  /** Drop the connection now and reconnect (what a network failure does; unacked messages are redelivered). */
  dropConnection(): void {
    this.client.forceDisconnect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client.deactivate();
    this.isConnected = false;
  }
}
