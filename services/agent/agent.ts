// The node agent: consumes the node's own queue (client-individual acks, prefetch = concurrency, 1 by
// default), runs each request through the action table (actions.ts) and replies to the request's reply
// queue with the result or the error's kind, message, field and exit code (common/errors.ts reportOf).
// A request is acked after its reply is sent, so one lost with the connection is redelivered; its
// correlation id is an idempotency key (a redelivered or resent request gets the first run's reply and is
// not run again; with a journal, journal.ts, also after the agent restarted, and a request that never
// finishes is refused after maxAttempts starts). A request past its deadline is dropped unrun. Facts are
// published every factsIntervalMs and on every (re)connect.
// The connection reconnects with exponential backoff and subscribes again (services/bus/connection.ts).

import { OperationFailedError, reportOf, UnavailableError, type NodeContext } from "../../node";
import {
  DEFAULT_PREFIX,
  factsTopic,
  nodeQueue,
  validateRequest,
  type BusError,
  type BusReply,
  type BusRequest,
  type NodeFacts,
} from "../bus/actions";
import { BusConnection, type BusLog, type BusMessage, type BusTlsOptions } from "../bus/connection";
import { IdempotencyCache, isExpired } from "../bus/model";
import { ACTION_TABLE, type ActionTable, type AgentEnv } from "./actions";
import { collectFacts, type FactsConfig } from "./facts";
import { journalDecision, RequestJournal } from "./journal";

export interface AgentOptions {
  readonly bus: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    /** STOMP over TLS, the bus's certificate verified (default: plain STOMP) */
    readonly tls?: BusTlsOptions;
  };
  readonly ctx: NodeContext;
  readonly facts: FactsConfig;
  readonly prefix?: string;
  /** facts every this many ms (default 30000, as OpenShift's registerinterval) */
  readonly factsIntervalMs?: number;
  /** requests run at once (the queue's prefetch; default 1) */
  readonly concurrency?: number;
  readonly table?: ActionTable;
  readonly collectFacts?: () => Promise<NodeFacts>;
  readonly heartbeatMs?: number;
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
  readonly noDelay?: boolean;
  /**
   * a reply bigger than this is replaced by an error reply (default 3 MiB, under the bus's 4 MiB frame cap:
   * ActiveMQ closes the connection on a bigger frame, and the redelivered request would loop)
   */
  readonly maxReplyBytes?: number;
  /**
   * the request journal's directory (journal.ts): idempotency across agent restarts, and a request that was
   * started maxAttempts times without finishing is refused. Without it, idempotency lasts the process.
   */
  readonly journalDir?: string;
  /** default 2 */
  readonly maxAttempts?: number;
  readonly log?: BusLog;
}

export interface AgentStats {
  /** requests run (each id once) */
  executed: number;
  /** deliveries answered from the idempotency cache or joined to a run in progress */
  duplicates: number;
  /** requests dropped unrun because their deadline had passed */
  expired: number;
  /** messages that were no valid request for this node */
  rejected: number;
  /** requests refused because earlier runs of them never finished (the agent died each time) */
  poisoned: number;
  factsPublished: number;
}

/** A failure as the reply's error: its kind, message, field, exit code and details (reportOf). */
function busError(e: unknown): BusError {
  const r = reportOf(e);
  return {
    kind: r.kind,
    message: r.message,
    ...(r.field !== undefined ? { field: r.field } : {}),
    exitCode: r.exitCode,
    ...(Object.keys(r.details).length ? { details: r.details } : {}),
  };
}

export class Agent {
  readonly node: string;
  readonly stats: AgentStats = {
    executed: 0,
    duplicates: 0,
    expired: 0,
    rejected: 0,
    poisoned: 0,
    factsPublished: 0,
  };
  private readonly conn: BusConnection;
  private readonly cache = new IdempotencyCache<BusReply>();
  private readonly table: ActionTable;
  private readonly env: AgentEnv;
  private readonly prefix: string;
  private readonly log: BusLog;
  private factsTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly running = new Set<Promise<void>>();
  private readonly journal: RequestJournal | null;

  constructor(private readonly opts: AgentOptions) {
    this.node = opts.facts.node;
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.table = opts.table ?? ACTION_TABLE;
    this.log = opts.log ?? (() => undefined);
    const facts = opts.collectFacts ?? (() => collectFacts(opts.ctx, opts.facts));
    this.env = { ctx: opts.ctx, facts };
    this.journal = opts.journalDir ? new RequestJournal(opts.journalDir) : null;
    this.conn = new BusConnection({
      ...opts.bus,
      name: `agent ${this.node}`,
      heartbeatMs: opts.heartbeatMs,
      reconnectDelayMs: opts.reconnectDelayMs,
      maxReconnectDelayMs: opts.maxReconnectDelayMs,
      noDelay: opts.noDelay,
      log: this.log,
    });
    // facts at once on every (re)connect: a restarted bus learns of the node without waiting an interval
    this.conn.onConnected(() => void this.publishFacts());
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  get connects(): number {
    return this.conn.connects;
  }

  /** Open the journal (when configured) and start consuming. */
  async start(): Promise<void> {
    if (this.journal) {
      await this.journal.open();
      const j = this.journal;
      this.pruneTimer = setInterval(() => void j.prune(Date.now()).catch(() => undefined), 10 * 60 * 1000);
    }
    const prefetch = String(this.opts.concurrency ?? 1);
    this.conn.subscribe(nodeQueue(this.node, this.prefix), (m) => this.track(this.onRequest(m)), {
      ack: "client-individual",
      "activemq.prefetchSize": prefetch,
    });
    this.conn.start();
    this.factsTimer = setInterval(() => void this.publishFacts(), this.opts.factsIntervalMs ?? 30000);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.conn.waitConnected(timeoutMs);
  }

  private track(p: Promise<void>): void {
    const t = p
      .catch((e) => this.log("error", `agent ${this.node}: ${(e as Error).message}`))
      .finally(() => this.running.delete(t));
    this.running.add(t);
  }

  /** Publish the node's facts now (errors are logged: a facts failure must not stop the agent). */
  async publishFacts(): Promise<void> {
    try {
      const facts = await this.env.facts();
      if (!this.conn.connected) return;
      this.conn.publish(factsTopic(this.node, this.prefix), JSON.stringify(facts), { persistent: "false" });
      this.stats.factsPublished++;
    } catch (e) {
      this.log("warn", `agent ${this.node}: facts not published: ${(e as Error).message}`);
    }
  }

  private async onRequest(m: BusMessage): Promise<void> {
    if (this.stopping) return; // not acked: redelivered to the next agent once this one disconnects
    let req: BusRequest;
    try {
      req = validateRequest(JSON.parse(m.body));
      if (req.node !== this.node) throw new Error(`addressed to node ${req.node}`);
    } catch (e) {
      // a poison message: acked so it is not redelivered forever; nothing to answer to
      this.stats.rejected++;
      this.log("warn", `agent ${this.node}: invalid request dropped: ${(e as Error).message}`);
      m.ack();
      return;
    }
    if (isExpired(req, Date.now())) {
      this.stats.expired++;
      this.log(
        "warn",
        `agent ${this.node}: request ${req.id} (${req.action}) expired before it ran; dropped`,
      );
      m.ack();
      return;
    }
    const decision = this.cache.begin(req.id, Date.now());
    let reply: BusReply;
    if (decision.kind === "run") {
      reply = await this.runOnce(req);
      this.cache.finish(req.id, reply, Date.now());
    } else {
      this.stats.duplicates++;
      reply = decision.kind === "done" ? decision.reply : await decision.reply;
    }
    const body = JSON.stringify(reply);
    try {
      this.conn.publish(req.replyTo, body, {
        "correlation-id": req.id,
        expires: String(req.expiresAt),
        persistent: "false",
      });
      m.ack();
    } catch (e) {
      // disconnected: not acked, so the request is redelivered after the reconnect and answered from the cache
      this.log("warn", `agent ${this.node}: reply to ${req.id} not sent (${(e as Error).message})`);
    }
  }

  /** Run a request not seen by this process: through the journal when there is one. */
  private async runOnce(req: BusRequest): Promise<BusReply> {
    if (!this.journal) {
      this.stats.executed++;
      return this.run(req);
    }
    try {
      const d = journalDecision(await this.journal.get(req.id), this.opts.maxAttempts ?? 2);
      if (d.kind === "done") {
        this.stats.duplicates++;
        return d.reply;
      }
      if (d.kind === "poison") {
        this.stats.poisoned++;
        this.log(
          "error",
          `agent ${this.node}: request ${req.id} (${req.action}) was started ${d.attempts} times and never finished; refused`,
        );
        const reply = this.errorReply(
          req,
          new OperationFailedError(
            `node ${this.node} was started on ${req.action} ${d.attempts} times and never finished it (the agent stopped each time); refused: check the node (geartrain node check)`,
          ),
        );
        await this.journal.put(req.id, { state: "done", attempts: d.attempts, at: Date.now(), reply });
        return reply;
      }
      await this.journal.put(req.id, { state: "running", attempts: d.attempt, at: Date.now() });
      this.stats.executed++;
      const reply = await this.run(req);
      await this.journal.put(req.id, { state: "done", attempts: d.attempt, at: Date.now(), reply });
      return reply;
    } catch (e) {
      return this.errorReply(
        req,
        new UnavailableError(`node ${this.node}: request journal: ${(e as Error).message}`),
      );
    }
  }

  private errorReply(req: BusRequest, e: unknown): BusReply {
    return { id: req.id, node: this.node, ok: false, error: busError(e) };
  }

  /** Run the action; the reply, capped in size (a frame over the bus's cap would close the connection). */
  private async run(req: BusRequest): Promise<BusReply> {
    const reply = await this.perform(req);
    const max = this.opts.maxReplyBytes ?? 3 * 1024 * 1024;
    if (Buffer.byteLength(JSON.stringify(reply)) <= max) return reply;
    this.log(
      "error",
      `agent ${this.node}: reply to ${req.id} (${req.action}) is over ${max} bytes; replaced`,
    );
    return this.errorReply(
      req,
      new OperationFailedError(`the reply of ${req.action} on node ${this.node} is over ${max} bytes`),
    );
  }

  private async perform(req: BusRequest): Promise<BusReply> {
    try {
      const fn = this.table[req.action] as (env: AgentEnv, args: unknown) => Promise<unknown>;
      const result = await fn(this.env, req.args);
      return { id: req.id, node: this.node, ok: true, result: result ?? null };
    } catch (e) {
      const error = busError(e);
      if (error.kind === "error")
        this.log("error", `agent ${this.node}: ${req.action} ${req.id} failed: ${error.message}`);
      return { id: req.id, node: this.node, ok: false, error };
    }
  }

  /** Drop the bus connection and reconnect (as a network failure would). */
  dropConnection(): void {
    this.conn.dropConnection();
  }

  /** Stop taking requests, let those running finish and reply, disconnect. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.factsTimer) clearInterval(this.factsTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.factsTimer = this.pruneTimer = null;
    await Promise.allSettled([...this.running]);
    await this.conn.stop();
  }
}
