// Conformance: engine features every Pulumi user relies on, through Geartrain's language host (the
// bundled `nodejs` host of our toolchain) and command provider: outputs, config secrets, components,
// dynamic-provider refresh, --target, --json, StackReference.
import * as fs from "fs";
import * as path from "path";
import { PulumiSandbox } from "../helpers/pulumi-cli";
import { destroyAll, exportedResources, outputs, programStack, resourceNamed } from "./stacks";

jest.setTimeout(5 * 60 * 1000);

const PASSWORD = "gt-conformance-pw-5d2e81";

describe("engine features", () => {
  let basics: PulumiSandbox;
  let reference: PulumiSandbox | undefined;
  let markerPath: string;

  beforeAll(() => {
    basics = programStack("basics", (dir) => {
      markerPath = path.join(dir, "marker.txt");
      return { plain: { markerPath }, secrets: { password: PASSWORD } };
    });
    basics.ok(["up", "--yes", "--skip-preview"]);
  });

  afterAll(() => destroyAll(reference, basics));

  it("exports outputs of each kind; a config secret stays secret and out of the state", () => {
    expect(outputs(basics)).toEqual({
      text: "hello conformance",
      number: 42,
      object: { list: [1, "two"], nested: { yes: true } },
      password: "[secret]",
      marker: "as declared",
      first: "first-1",
      second: "second-1",
    });
    expect(outputs(basics, true).password).toBe(PASSWORD);
    expect(basics.ok(["stack", "export"]).stdout).not.toContain(PASSWORD);
  });

  it("records a component with its child and registered outputs", () => {
    const component = exportedResources(basics).find((r) => r.type === "conformance:index:Greeting");
    expect(component?.outputs).toEqual({ text: "hello conformance" });
    expect(resourceNamed(basics, "greeting-echo").parent).toBe(component?.urn);
  });

  it("previews no changes after an up", () => {
    const preview = basics.run(["preview", "--expect-no-changes"]);
    expect(preview.stdout + preview.stderr).not.toMatch(/error/i);
    expect(preview.code).toBe(0);
  });

  it("refresh reads a dynamic resource back, and up repairs the drift", () => {
    fs.writeFileSync(markerPath, "drifted");
    basics.ok(["refresh", "--yes", "--skip-preview"]);
    expect(resourceNamed(basics, "marker").outputs).toMatchObject({ content: "drifted" });
    basics.ok(["up", "--yes", "--skip-preview"]);
    expect(fs.readFileSync(markerPath, "utf8")).toBe("as declared");
  });

  it("--target updates only the named resource, and preview --json reports what is left", () => {
    basics.ok(["config", "set", "revision", "2"]);
    basics.ok(["up", "--yes", "--skip-preview", "--target", resourceNamed(basics, "first").urn]);
    expect(resourceNamed(basics, "first").outputs).toMatchObject({ stdout: "first-2" });
    expect(resourceNamed(basics, "second").outputs).toMatchObject({ stdout: "second-1" });

    const preview = JSON.parse(basics.ok(["preview", "--json"]).stdout);
    const updates = preview.steps
      .filter((s: { op: string }) => s.op === "update")
      .map((s: { urn: string }) => s.urn);
    expect(updates).toContain(resourceNamed(basics, "second").urn);
    expect(updates).not.toContain(resourceNamed(basics, "first").urn);
  });

  it("a StackReference reads another stack's outputs, and its secrets stay secret", () => {
    reference = programStack(
      "stack-reference",
      () => ({ plain: { basicsStack: basics.qualifiedStack } }),
      basics,
    );
    reference.ok(["up", "--yes", "--skip-preview"]);
    expect(outputs(reference)).toEqual({ number: 42, password: "[secret]" });
    expect(outputs(reference, true).password).toBe(PASSWORD);
  });
});
