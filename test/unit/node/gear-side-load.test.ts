// Start-up cost of the gear-side entry points: the SSH forced command (gear-shell) and the repository hooks
// (gear-hook) start on every git push, so they must not load the manifest parser or the template engine.
// These modules throw when loaded: a static import of one on that path fails here.
jest.mock("yaml", () => {
  throw new Error("yaml was loaded");
});
jest.mock("ajv/dist/2020", () => {
  throw new Error("ajv was loaded");
});
jest.mock("handlebars", () => {
  throw new Error("handlebars was loaded");
});

describe("the gear-side entry points load no parser", () => {
  it.each([["../../../node/deploy/shell"], ["../../../node/deploy/gear-hook"], ["../../../node/cli/deploy"]])(
    "%s",
    async (mod) => {
      await expect(import(mod)).resolves.toBeDefined();
    },
  );

  it("fails here when one of them is loaded", async () => {
    await expect(import("../../../cartridges/manifest")).rejects.toThrow(/was loaded/);
  });
});
