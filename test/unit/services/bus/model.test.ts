// The pure parts of the bus: expiry, which replies are accepted, the idempotency cache, responsiveness.

import {
  IdempotencyCache,
  Liveness,
  isExpired,
  replyProblem,
  responsiveness,
} from "../../../../services/bus/model";

test("a request expires at its deadline", () => {
  expect(isExpired({ expiresAt: 1000 }, 999)).toBe(false);
  expect(isExpired({ expiresAt: 1000 }, 1000)).toBe(true);
});

test("a reply is accepted only from the node asked, sent by its agent user", () => {
  const pending = { node: "node1", agentUser: "agent-node1" };
  expect(replyProblem(pending, { id: "r1", node: "node1" }, "agent-node1")).toBeNull();
  expect(replyProblem(undefined, { id: "r1", node: "node1" }, "agent-node1")).toMatch(/matches no pending/);
  expect(replyProblem(pending, { id: "r1", node: "node2" }, "agent-node2")).toMatch(/names node node2/);
  expect(replyProblem(pending, { id: "r1", node: "node1" }, "agent-node2")).toMatch(/sent by agent-node2/);
  expect(replyProblem(pending, { id: "r1", node: "node1" }, undefined)).toMatch(/unknown user/);
});

test("idempotency: run once, later deliveries wait for or reuse the reply", async () => {
  const c = new IdempotencyCache<string>(100, 1000);
  expect(c.begin("a", 0).kind).toBe("run");
  const again = c.begin("a", 1);
  expect(again.kind).toBe("wait");
  c.finish("a", "reply-a", 2);
  await expect((again as { reply: Promise<string> }).reply).resolves.toBe("reply-a");
  expect(c.begin("a", 3)).toEqual({ kind: "done", reply: "reply-a" });
});

test("idempotency: forgotten after its age, oldest first when full; running entries are kept", () => {
  const c = new IdempotencyCache<string>(2, 100);
  c.begin("a", 0);
  c.finish("a", "A", 0);
  expect(c.begin("a", 150).kind).toBe("run"); // expired, so run again
  c.finish("a", "A2", 150);
  c.begin("b", 151);
  c.finish("b", "B", 151);
  c.begin("c", 152); // running, over the bound: the oldest done one goes
  expect(c.size).toBe(2);
  expect(c.begin("a", 153).kind).toBe("run");
  expect(c.begin("c", 153).kind).toBe("wait");
});

test("responsiveness: heard within the silence or not", () => {
  expect(responsiveness(undefined, 10, 5)).toBe("unresponsive");
  expect(responsiveness(5, 10, 5)).toBe("responsive");
  expect(responsiveness(4, 10, 5)).toBe("unresponsive");
  const l = new Liveness(1000);
  l.record("n2", 100);
  l.record("n1", 500);
  l.record("n1", 200); // older news does not move it back
  expect(l.lastHeard("n1")).toBe(500);
  expect(l.status("n1", 1400)).toBe("responsive");
  expect(l.all(1200)).toEqual([
    { node: "n1", lastHeard: 500, status: "responsive" },
    { node: "n2", lastHeard: 100, status: "unresponsive" },
  ]);
});
