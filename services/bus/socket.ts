// Our TCP transport for @stomp/stompjs: the IStompSocket interface it expects of a WebSocket, over a plain
// net.Socket, or a TLS one (`tls`: ActiveMQ's stomp+ssl / stomp+nio+ssl connector) whose certificate is
// verified against the given CA and server name. Unlike @stomp/tcp-wrapper it sets TCP_NODELAY (Nagle plus
// delayed ACKs cost ~40 ms per request/reply round trip on loopback, docs/control-plane.md) and keep-alive,
// destroys the socket on terminate(), and reports how much is queued for writing (the client has no
// backpressure of its own).

import * as net from "net";
import * as tls from "tls";
import { StompSocketState, type IStompSocket } from "@stomp/stompjs";

/** STOMP over TLS: the server's certificate must chain to `ca` and name `servername` (or the host). */
export interface BusTlsOptions {
  /** The CA certificate(s) to trust, PEM: the only trust anchors (the system's are not used). */
  readonly ca: string;
  /**
   * The name the server's certificate must carry (also sent as SNI). @default the host (a DNS name, or an
   * IP address the certificate lists as an IP SAN)
   */
  readonly servername?: string;
}

/** The name a TLS connection to `host` checks the server's certificate against. */
export function expectedServerName(host: string, t: BusTlsOptions): string {
  return t.servername ?? host;
}

/** Node's tls options for a verified connection (certificate verification always on). */
export function tlsConnectOptions(host: string, port: number, t: BusTlsOptions): tls.ConnectionOptions {
  const name = expectedServerName(host, t);
  return {
    host,
    port,
    ca: t.ca,
    rejectUnauthorized: true,
    // SNI takes a DNS name only (an IP address there is deprecated, DEP0123)
    ...(net.isIP(name) === 0 ? { servername: name } : {}),
    checkServerIdentity: (_hostname, cert) => tls.checkServerIdentity(name, cert),
  };
}

/** OpenSSL's verification codes that mean "not signed by a CA we trust". */
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

/**
 * A TLS failure as one line saying what was wrong with the bus's certificate, or null when `err` is no
 * certificate verification failure (a refused connection, a reset).
 */
export function describeTlsError(err: unknown, serverName: string): string | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : String(err);
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return `TLS: the bus's certificate is not valid for the name ${serverName} (${message})`;
  if (UNTRUSTED.has(code))
    return `TLS: the bus's certificate is not signed by the trusted CA (${code}: ${message})`;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID")
    return `TLS: the bus's certificate is outside its validity period (${code}: ${message})`;
  if (code === "EPROTO" || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || /CERT/.test(code))
    return `TLS: the handshake with the bus failed (is its connector stomp+ssl?) (${code}: ${message})`;
  return null;
}

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
  /** STOMP over TLS (default: plain TCP) */
  readonly tls?: BusTlsOptions;
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
  /** the name the server's certificate is checked against (null: plain TCP) */
  readonly serverName: string | null;

  constructor(opts: TcpSocketOptions) {
    this.url = `${opts.tls ? "ssl" : "tcp"}://${opts.host}:${opts.port}`;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 2000;
    this.serverName = opts.tls ? expectedServerName(opts.host, opts.tls) : null;
    this.socket = opts.tls
      ? tls.connect(tlsConnectOptions(opts.host, opts.port, opts.tls))
      : net.createConnection({ host: opts.host, port: opts.port });
    this.noDelay = opts.noDelay ?? true;
    this.socket.setNoDelay(this.noDelay);
    const keepAlive = opts.keepAliveMs ?? 15000;
    if (keepAlive > 0) this.socket.setKeepAlive(true, keepAlive);
    // over TLS the socket is open once the handshake verified the server's certificate
    this.socket.on(opts.tls ? "secureConnect" : "connect", () => {
      this.state = StompSocketState.OPEN;
      this.onopen?.();
    });
    // stompjs's parser copies what it is given (new Uint8Array(data)), so a Buffer chunk is passed as is
    this.socket.on("data", (data: Buffer) => this.onmessage?.({ data }));
    this.socket.on("error", (err) => {
      const tlsProblem = this.serverName === null ? null : describeTlsError(err, this.serverName);
      this.onerror?.(tlsProblem === null ? err : Object.assign(new Error(tlsProblem), { cause: err }));
    });
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
