// Our TCP transport for @stomp/stompjs: the IStompSocket interface it expects of a WebSocket, over a plain
// net.Socket. Unlike @stomp/tcp-wrapper it sets TCP_NODELAY (Nagle plus delayed ACKs cost ~40 ms per
// request/reply round trip on loopback, docs/control-plane.md) and keep-alive, destroys the socket on
// terminate(), and reports how much is queued for writing (the client has no backpressure of its own).

import * as net from "net";
import { StompSocketState, type IStompSocket } from "@stomp/stompjs";

export interface TcpSocketOptions {
  readonly host: string;
  readonly port: number;
  /** TCP_NODELAY (default true) */
  readonly noDelay?: boolean;
  /** TCP keep-alive initial delay in ms (default 15000; 0 = off) */
  readonly keepAliveMs?: number;
  /** how long close() waits for the peer before destroying the socket (default 2000 ms) */
  readonly closeTimeoutMs?: number;
  /**
   * the socket is destroyed unless established() is called within this many ms of its creation (TCP connect
   * plus the STOMP handshake; default 10000; 0 = no limit)
   */
  readonly establishTimeoutMs?: number;
}

export class TcpStompSocket implements IStompSocket {
  readonly url: string;
  binaryType = "arraybuffer";
  onclose: ((ev?: unknown) => unknown) | undefined | null = null;
  onerror: ((ev: unknown) => unknown) | undefined | null = null;
  onmessage: ((ev: unknown) => unknown) | undefined | null = null;
  onopen: ((ev?: unknown) => unknown) | undefined | null = null;
  private state: StompSocketState = StompSocketState.CONNECTING;
  private readonly socket: net.Socket;
  private readonly closeTimeoutMs: number;
  private establishTimer: NodeJS.Timeout | null = null;
  /** whether TCP_NODELAY is set */
  readonly noDelay: boolean;

  constructor(opts: TcpSocketOptions) {
    this.url = `tcp://${opts.host}:${opts.port}`;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 2000;
    this.socket = net.createConnection({ host: opts.host, port: opts.port });
    this.noDelay = opts.noDelay ?? true;
    this.socket.setNoDelay(this.noDelay);
    const keepAlive = opts.keepAliveMs ?? 15000;
    if (keepAlive > 0) this.socket.setKeepAlive(true, keepAlive);
    this.socket.on("connect", () => {
      this.state = StompSocketState.OPEN;
      this.onopen?.();
    });
    // stompjs's parser copies what it is given (new Uint8Array(data)), so a Buffer chunk is passed as is
    this.socket.on("data", (data: Buffer) => this.onmessage?.({ data }));
    this.socket.on("error", (err) => this.onerror?.(err));
    const establishMs = opts.establishTimeoutMs ?? 10000;
    if (establishMs > 0) this.establishTimer = setTimeout(() => this.terminate(), establishMs);
    this.socket.on("close", (hadError) => {
      this.established();
      this.state = StompSocketState.CLOSED;
      this.onclose?.({ code: 1000, reason: hadError ? "socket error" : "closed", wasClean: !hadError });
    });
  }

  /** The connection is up (the STOMP handshake is done): the establish timeout no longer applies. */
  established(): void {
    if (this.establishTimer) clearTimeout(this.establishTimer);
    this.establishTimer = null;
  }

  get readyState(): number {
    return this.state;
  }

  /** bytes queued for writing and not yet handed to the kernel */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.state !== StompSocketState.OPEN) return;
    if (typeof data === "string") this.socket.write(data, "utf8");
    else if (ArrayBuffer.isView(data))
      this.socket.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === "[object ArrayBuffer]")
      this.socket.write(new Uint8Array(data as ArrayBuffer));
    else throw new TypeError("TcpStompSocket.send: unsupported data type");
  }

  /** Half-close and wait for the peer; destroyed after closeTimeoutMs if it does not answer. */
  close(): void {
    if (this.state === StompSocketState.CLOSED || this.state === StompSocketState.CLOSING) return;
    if (this.state === StompSocketState.CONNECTING) return this.terminate();
    this.state = StompSocketState.CLOSING;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), this.closeTimeoutMs).unref();
  }

  /** Drop the connection now (heart-beat lost, forced disconnect). */
  terminate(): void {
    if (this.state === StompSocketState.CLOSED) return;
    this.state = StompSocketState.CLOSING;
    this.socket.destroy();
  }
}
