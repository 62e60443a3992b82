// The broker's side of the message bus: call(node, action, args) sends a request to the node's queue and
// waits for the reply on this process's own reply queue; facts from every node arrive on a topic and keep the
// responsiveness model (model.ts) current.
//
// Delivery rules (docs/control-plane.md "Message bus"):
// - a call made while disconnected waits for the connection until its deadline, then fails (UnavailableError);
// - a request published before a connection drop is sent again, with the same id, after every reconnect
//   until its reply or deadline: nothing assumes the first publish arrived, and the agent's idempotency
//   cache makes a repeat run nothing twice;
// - a reply is taken only from the node asked: its body names that node and the broker-set JMSXUserID is
//   that node's agent user (a node cannot answer for another);
// - every request carries an absolute deadline (expiresAt, and the STOMP `expires` header so ActiveMQ drops
//   it unread); the call fails with UnavailableError naming the node and action when it passes.

import { randomUUID } from "crypto";
import { UnavailableError, ValidationError } from "../../common/errors";
import { agentUser as defaultAgentUser } from "../../common/render/activemq";
import {
  DEFAULT_PREFIX,
  factsWildcard,
  isAction,
  nodeQueue,
  replyQueue,
  validateArgs,
  validateFacts,
  validateReply,
  type Action,
  type ActionArgs,
  type BusRequest,
  type NodeFacts,
} from "./actions";
import { BusConnection, type BusLog, type BusMessage, type BusTlsOptions } from "./connection";
import { errorFromReply } from "./errors";
import { Liveness, replyProblem, type NodeResponsiveness } from "./model";

export interface NodeBusOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** STOMP over TLS, the bus's certificate verified (default: plain STOMP) */
  readonly tls?: BusTlsOptions;
  /** this broker process's id: its reply queue is <prefix>.reply.<brokerId> (default: a random one) */
  readonly brokerId?: string;
  readonly prefix?: string;
  /** a node is unresponsive after this much silence (default 90000 ms: three facts intervals) */
  readonly silenceMs?: number;
  /** default deadline of a call (default 60000 ms) */
  readonly timeoutMs?: number;
  /** at most this many calls waiting at once (default 1000); more fail with UnavailableError */
  readonly maxPending?: number;
  /** a request bigger than this fails with ValidationError (default 1 MiB; the bus's frame cap is 4 MiB) */
  readonly maxRequestBytes?: number;
  /** the bus user of a node's agent (default agent-<node>) */
  readonly agentUser?: (node: string) => string;
  readonly noDelay?: boolean;
  readonly heartbeatMs?: number;
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
  readonly log?: BusLog;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  /** the correlation id (default: a new UUID); a retry of the same operation may pass the same id */
  readonly id?: string;
}

interface Pending {
  readonly request: BusRequest;
  readonly agentUser: string;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
  sent: boolean;
}

export interface NodeStatus {
  readonly node: string;
  readonly status: NodeResponsiveness;
  readonly lastHeard: number | null;
  readonly facts: NodeFacts | null;
}

const NODE_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class NodeBus {
  readonly brokerId: string;
  readonly replyTo: string;
  private readonly conn: BusConnection;
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly factsListeners = new Set<(f: NodeFacts) => void>();
  private readonly lastFacts = new Map<string, NodeFacts>();
  private readonly liveness: Liveness;
  private readonly agentUser: (node: string) => string;
  private readonly log: BusLog;
  private closed = false;
  /** requests sent again after a reconnect (for tests and metrics) */
  resent = 0;

  constructor(private readonly opts: NodeBusOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.brokerId = opts.brokerId ?? `b-${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    if (!NODE_RE.test(this.brokerId))
      throw new ValidationError("brokerId", "must be 1-63 lower-case letters, digits, '-' or '_'");
    this.replyTo = replyQueue(this.brokerId, this.prefix);
    this.liveness = new Liveness(opts.silenceMs ?? 90000);
    this.agentUser = opts.agentUser ?? defaultAgentUser;
    this.log = opts.log ?? (() => undefined);
    this.conn = new BusConnection({
      host: opts.host,
      port: opts.port,
      user: opts.user,
      password: opts.password,
      ...(opts.tls ? { tls: opts.tls } : {}),
      name: `broker ${this.brokerId}`,
      noDelay: opts.noDelay,
      heartbeatMs: opts.heartbeatMs,
      reconnectDelayMs: opts.reconnectDelayMs,
      maxReconnectDelayMs: opts.maxReconnectDelayMs,
      log: this.log,
    });
    this.conn.subscribe(this.replyTo, (m) => this.onReply(m));
    this.conn.subscribe(factsWildcard(this.prefix), (m) => this.onFactsMessage(m));
    this.conn.onConnected(() => this.resendPending());
    this.conn.onDisconnected(() => {
      for (const p of this.pending.values()) p.sent = false;
    });
    this.conn.start();
  }

  /** Connect and wait for the connection (UnavailableError after timeoutMs). */
  static async connect(opts: NodeBusOptions, timeoutMs = 30000): Promise<NodeBus> {
    const bus = new NodeBus(opts);
    try {
      await bus.conn.waitConnected(timeoutMs);
    } catch (e) {
      await bus.close();
      throw e;
    }
    return bus;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  /** how many (re)connects so far */
  get connects(): number {
    return this.conn.connects;
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.conn.waitConnected(timeoutMs);
  }

  /**
   * Run `action` on `node` and return the node operation's result; a failed operation throws the
   * GeartrainError of its kind; no reply by the deadline throws UnavailableError naming node and action.
   */
  call<A extends Action>(
    node: string,
    action: A,
    args: ActionArgs[A],
    opts: CallOptions = {},
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new UnavailableError("the node bus is closed"));
      if (typeof node !== "string" || !NODE_RE.test(node))
        return reject(new ValidationError("node", `must be a node identity (got ${JSON.stringify(node)})`));
      if (!isAction(action))
        return reject(new ValidationError("action", `unknown action ${JSON.stringify(action)}`));
      try {
        validateArgs(action, args);
      } catch (e) {
        return reject(e);
      }
      if (this.pending.size >= (this.opts.maxPending ?? 1000))
        return reject(
          new UnavailableError(`too many node requests in flight (${this.pending.size}); try again`),
        );
      const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 60000;
      const id = opts.id ?? randomUUID();
      if (this.pending.has(id))
        return reject(new ValidationError("id", `request ${id} is already in flight`));
      const request: BusRequest = {
        id,
        action,
        args,
        replyTo: this.replyTo,
        expiresAt: Date.now() + timeoutMs,
        node,
      };
      const max = this.opts.maxRequestBytes ?? 1024 * 1024;
      if (Buffer.byteLength(JSON.stringify(request)) > max)
        return reject(new ValidationError("args", `the request is over ${max} bytes`));
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        const why = !this.conn.connected
          ? `the message bus at ${this.opts.host}:${this.opts.port} was not reachable`
          : p.sent
            ? "no reply (is its agent running?)"
            : "the request could not be sent";
        reject(
          new UnavailableError(
            `node ${node} did not answer ${action} within ${timeoutMs} ms: ${why} (request ${id})`,
          ),
        );
      }, timeoutMs);
      const p: Pending = { request, agentUser: this.agentUser(node), resolve, reject, timer, sent: false };
      this.pending.set(id, p);
      this.send(p); // if disconnected: sent on (re)connect, or the deadline fails it
    });
  }

  private send(p: Pending): void {
    if (!this.conn.connected) return;
    const r = p.request;
    try {
      this.conn.publish(nodeQueue(r.node, this.prefix), JSON.stringify(r), {
        "correlation-id": r.id,
        "reply-to": r.replyTo,
        expires: String(r.expiresAt),
        persistent: "false",
        "x-geartrain-action": r.action,
      });
      p.sent = true;
    } catch (e) {
      // not connected after all: the reconnect sends it again
      this.log("warn", `broker ${this.brokerId}: request ${r.id} not sent (${(e as Error).message})`);
    }
  }

  private resendPending(): void {
    const now = Date.now();
    for (const p of this.pending.values()) {
      if (p.request.expiresAt <= now) continue;
      if (p.sent) continue;
      // it may have arrived before the drop: the same id makes the agent answer without running it again
      this.resent++;
      this.send(p);
    }
  }

  private onReply(m: BusMessage): void {
    let reply;
    try {
      reply = validateReply(JSON.parse(m.body));
    } catch (e) {
      this.log("warn", `broker ${this.brokerId}: malformed reply dropped: ${(e as Error).message}`);
      return;
    }
    const p = this.pending.get(reply.id);
    const problem = replyProblem(
      p && { node: p.request.node, agentUser: p.agentUser },
      reply,
      m.headers.JMSXUserID,
    );
    if (problem || !p) {
      this.log("warn", `broker ${this.brokerId}: ${problem}`);
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    this.liveness.record(p.request.node, Date.now());
    if (reply.ok) p.resolve(reply.result);
    else
      p.reject(
        errorFromReply(reply.error, { node: p.request.node, action: p.request.action, requestId: reply.id }),
      );
  }

  private onFactsMessage(m: BusMessage): void {
    let facts: NodeFacts;
    try {
      facts = validateFacts(JSON.parse(m.body));
    } catch (e) {
      this.log("warn", `broker ${this.brokerId}: malformed facts dropped: ${(e as Error).message}`);
      return;
    }
    const sender = m.headers.JMSXUserID;
    if (sender !== this.agentUser(facts.node)) {
      this.log("warn", `broker ${this.brokerId}: facts for node ${facts.node} sent by ${sender}: dropped`);
      return;
    }
    // heard now (our clock), whatever the node's clock says
    this.liveness.record(facts.node, Date.now());
    this.lastFacts.set(facts.node, facts);
    for (const l of this.factsListeners) {
      try {
        l(facts);
      } catch (e) {
        this.log("error", `broker ${this.brokerId}: facts listener failed: ${(e as Error).message}`);
      }
    }
  }

  /** Called with every node's facts as they arrive; returns the unsubscribe function. */
  onFacts(cb: (facts: NodeFacts) => void): () => void {
    this.factsListeners.add(cb);
    return () => this.factsListeners.delete(cb);
  }

  /** A node's responsiveness, when it was last heard from and its last facts. */
  nodeStatus(node: string, now = Date.now()): NodeStatus {
    return {
      node,
      status: this.liveness.status(node, now),
      lastHeard: this.liveness.lastHeard(node) ?? null,
      facts: this.lastFacts.get(node) ?? null,
    };
  }

  /** Every node heard from since this process started. */
  nodes(now = Date.now()): NodeStatus[] {
    return this.liveness.all(now).map(({ node }) => this.nodeStatus(node, now));
  }

  /** Fail what is pending and disconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(
        new UnavailableError(
          `the node bus was closed before node ${p.request.node} answered ${p.request.action} (request ${id})`,
        ),
      );
    }
    this.pending.clear();
    await this.conn.stop();
  }
}
