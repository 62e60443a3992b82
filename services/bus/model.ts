// Pure decisions of the message bus (no I/O, time passed in): when a request has expired, which replies are
// accepted, the agent's idempotency cache (correlation id → reply), and node responsiveness (a node is
// unresponsive after a silence). Unit-tested without a broker.

import type { BusReply, BusRequest } from "./actions";

/** A request whose deadline has passed is not run (the broker drops it in the queue, the agent on receipt). */
export function isExpired(req: Pick<BusRequest, "expiresAt">, now: number): boolean {
  return req.expiresAt <= now;
}

export interface PendingCall {
  readonly node: string;
  /** the bus user the node's agent connects as */
  readonly agentUser: string;
}

/**
 * Why a reply is not taken as the answer to the pending call (null: it is). The sender is the broker-set
 * JMSXUserID (a client cannot forge it): a node's agent cannot answer for another node.
 */
export function replyProblem(
  pending: PendingCall | undefined,
  reply: Pick<BusReply, "id" | "node">,
  sender: string | undefined,
): string | null {
  if (!pending) return `reply ${reply.id} matches no pending request (late, or not ours)`;
  if (reply.node !== pending.node)
    return `reply ${reply.id} names node ${reply.node}, but the request went to ${pending.node}`;
  if (sender !== pending.agentUser)
    return `reply ${reply.id} for node ${pending.node} was sent by ${sender ?? "an unknown user"}, not ${pending.agentUser}`;
  return null;
}

type Entry<R> =
  | { readonly state: "running"; readonly waiters: ((r: R) => void)[]; readonly at: number }
  | { readonly state: "done"; readonly reply: R; readonly at: number };

/**
 * The agent's memory of recent requests: while one runs, a redelivery of it waits for its reply; once done,
 * a redelivery gets the same reply without running again. Bounded in size (oldest forgotten first) and age.
 */
export class IdempotencyCache<R> {
  private readonly entries = new Map<string, Entry<R>>();

  constructor(
    private readonly maxEntries = 10000,
    private readonly ttlMs = 15 * 60 * 1000,
  ) {}

  /** What to do with a request: run it (it is now marked running), wait for its reply, or reply at once. */
  begin(
    id: string,
    now: number,
  ):
    | { readonly kind: "run" }
    | { readonly kind: "wait"; readonly reply: Promise<R> }
    | { readonly kind: "done"; readonly reply: R } {
    this.expire(now);
    const e = this.entries.get(id);
    if (e?.state === "done") return { kind: "done", reply: e.reply };
    if (e?.state === "running")
      return { kind: "wait", reply: new Promise<R>((resolve) => e.waiters.push(resolve)) };
    this.entries.set(id, { state: "running", waiters: [], at: now });
    this.trim();
    return { kind: "run" };
  }

  /** Record the reply of a run and hand it to whoever waited. */
  finish(id: string, reply: R, now: number): void {
    const e = this.entries.get(id);
    this.entries.delete(id); // re-inserted last: the map's order is age order
    this.entries.set(id, { state: "done", reply, at: now });
    if (e?.state === "running") for (const w of e.waiters) w(reply);
    this.trim();
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(now: number): void {
    for (const [id, e] of this.entries) {
      if (now - e.at < this.ttlMs) break;
      if (e.state === "done") this.entries.delete(id);
    }
  }

  private trim(): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (e.state === "done") this.entries.delete(id);
    }
  }
}

export type NodeResponsiveness = "responsive" | "unresponsive";

/** A node is responsive while it was heard from (facts or a reply) within silenceMs. */
export function responsiveness(
  lastHeard: number | undefined,
  now: number,
  silenceMs: number,
): NodeResponsiveness {
  return lastHeard !== undefined && now - lastHeard <= silenceMs ? "responsive" : "unresponsive";
}

/** When each node was last heard from. */
export class Liveness {
  private readonly heard = new Map<string, number>();

  constructor(readonly silenceMs: number) {}

  record(node: string, at: number): void {
    const prev = this.heard.get(node);
    if (prev === undefined || at > prev) this.heard.set(node, at);
  }

  lastHeard(node: string): number | undefined {
    return this.heard.get(node);
  }

  status(node: string, now: number): NodeResponsiveness {
    return responsiveness(this.heard.get(node), now, this.silenceMs);
  }

  /** every node ever heard from, with its status */
  all(now: number): { node: string; lastHeard: number; status: NodeResponsiveness }[] {
    return [...this.heard.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([node, lastHeard]) => ({
        node,
        lastHeard,
        status: responsiveness(lastHeard, now, this.silenceMs),
      }));
  }
}
