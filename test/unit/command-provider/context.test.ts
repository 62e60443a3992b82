import { operationContext, withOperationContext, wrapImplementation } from "../../../plugins/command/context";

describe("request timeout hook", () => {
  it("runs create/update/delete inside a context carrying the request's timeout", async () => {
    const seen: Array<number | undefined> = [];
    const impl = {
      tag: "server",
      create(this: { tag: string }, _call: unknown, cb: (v: string) => void) {
        seen.push(operationContext.getStore()?.timeoutSeconds);
        cb(this.tag); // `this` is still the original implementation
      },
      check() {
        seen.push(operationContext.getStore()?.timeoutSeconds);
      },
    };
    const wrapped = wrapImplementation(impl) as typeof impl;
    const results: string[] = [];
    wrapped.create.call(wrapped, { request: { getTimeout: () => 120 } }, (v: string) => results.push(v));
    wrapped.create.call(wrapped, { request: { getTimeout: () => 0 } }, (v: string) => results.push(v));
    wrapped.check();
    expect(seen).toEqual([120, undefined, undefined]);
    expect(results).toEqual(["server", "server"]);
  });

  it("withOperationContext scopes a timeout for direct calls", async () => {
    const inside = await withOperationContext({ timeoutSeconds: 5 }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return operationContext.getStore()?.timeoutSeconds;
    });
    expect(inside).toBe(5);
    expect(operationContext.getStore()).toBeUndefined();
  });
});
